// `stepbox play <lesson>`: what a student does by clicking through a lesson, headless.
import { resolve } from 'node:path';
import { Lab } from '../session/lab.ts';
import { typeAndCapture } from '../session/terminal.ts';
import { Playthrough } from '../course/playthrough.ts';
import { loadLesson } from '../lessons/load.ts';
import { notHere, solveTask, taskDone, typeSolution } from '../course/tasks.ts';
import { lessonNotHere } from '../course/fits.ts';
import type { StepResult } from '../protocol/results.ts';
import { mainCall } from '../protocol/calls.ts';
import { defaultCgroupsPath, writeBundle } from '../export/bundle.ts';
import { specOf } from '../export/spec.ts';
import { defaultDisk, imageDir } from '../rootfs/images.ts';
import { reapOnExit } from './reap-on-exit.ts';
import { seatsFrom, type SeatCliOptions } from './seat-options.ts';

interface PlayOptions extends SeatCliOptions {
  json?: boolean;
  exec?: string;
  /** A folder of lessons other than lessons/, e.g. a draft an instructor is writing. */
  dir?: string;
  image?: string;
  cgroupParent?: string;
  /** Write what the lesson built to this folder: an OCI bundle and run.sh. */
  export?: string;
  cgroupsPath?: string;
}

const ms = (ns: number) => `${(ns / 1e6).toFixed(2)} ms`;

function line(r: StepResult): string {
  const mark = r.ok && r.checks.every((c) => c.ok) ? '✓' : '✗';
  const key = mainCall(r.kind, r.calls, r.ok);
  const call = key ? `${key.call} = ${key.ret}${key.errno ? ` ${key.errno} (${key.msg})` : ''}  ${ms(key.ns)}` : '';
  const out = [`${mark} ${(r.stepId ?? r.kind).padEnd(22)} ${call}`];
  if (r.refusal) out.push(`    refused: ${r.refusal.en}`);
  if (r.error && !r.refusal) out.push(`    error: ${r.error}`);
  for (const n of r.notes) out.push(`    note: ${n.en}`);
  for (const c of r.checks) if (!c.ok) out.push(`    check failed: ${c.en}`);
  return out.join('\n');
}

export async function play(id: string, opts: PlayOptions): Promise<number> {
  const lesson = loadLesson(id, opts.dir ? resolve(opts.dir) : undefined);
  const lab = await Lab.start({ image: opts.image === 'busybox' ? lesson.image : opts.image, cgroupParent: opts.cgroupParent, seats: seatsFrom(opts) });
  reapOnExit(() => lab.shutdown(), { signalCode: 130 });
  let failed = false;
  let skipped = 0;
  try {
    const away = lessonNotHere(lesson, lab.cgroups, lab.seated);
    if (away) {
      // Said and counted as a skip: the machine lacks what the lesson is about.
      if (opts.json) console.log(JSON.stringify({ lesson: lesson.id, skipped: away.en }));
      else console.log(`– lesson ${lesson.id}: skipped: ${away.en}`);
      return 0;
    }
    const session = await lab.open({ cols: 200, rows: 50 });
    const course = new Playthrough(lesson, session);
    for (const step of lesson.steps) {
      const r = (await course.run(step.id))!;
      if (opts.json) {
        const { snapshot, ...rest } = r;
        console.log(JSON.stringify({ ...rest, hostPid: snapshot.hostPid, nspid: snapshot.nspid, snapshot }));
      } else console.log(line(r));
      if (!r.ok || r.checks.some((c) => !c.ok)) {
        failed = true;
        break;
      }
      for (const task of step.tasks) {
        const skip = notHere(session, task);
        if (skip) {
          // Said and counted, never silent: the lesson passes without it on this machine.
          skipped++;
          // Its solution still runs: a later task may build on what it started.
          await typeSolution(session, task).catch(() => '');
          if (opts.json) console.log(JSON.stringify({ stepId: step.id, task: task.id, skipped: skip.en }));
          else console.log(`  – task ${task.id}: skipped: ${skip.en}`);
          continue;
        }
        // A check that holds before the student has done anything would tick itself: it
        // proves nothing, so the lesson fails here, before its solution is typed.
        const already = await taskDone(session, task);
        const done = !already && (await solveTask(session, task));
        const why = already ? 'its check already holds before the solution runs' : done ? '' : 'its check never held after the solution';
        if (opts.json) console.log(JSON.stringify({ stepId: step.id, task: task.id, ok: done, ...(why ? { why } : {}) }));
        else console.log(`  ${done ? '✓' : '✗'} task ${task.id}: ${task.title.en}${why ? `\n    ${why}` : ''}`);
        if (!done) failed = true;
      }
      if (failed) break;
    }
    if (opts.export && !failed) {
      const spec = specOf(lab.image, course.builtSteps());
      const cgroupsPath = opts.cgroupsPath ?? defaultCgroupsPath(lab.cgroups.host, `stepbox-${lesson.id}`);
      await writeBundle(resolve(opts.export), spec, { lesson: lesson.id, cgroupsPath, disk: defaultDisk(imageDir(lesson.image)) });
      console.log(`exported to ${resolve(opts.export)}: config.json, rootfs/, run.sh`);
    }
    if (opts.exec && !failed) {
      if (session.state.phase !== 'running') {
        console.error('--exec needs a lesson that ends with exec');
        failed = true;
      } else {
        const out = await typeAndCapture(session, opts.exec);
        if (opts.json) console.log(JSON.stringify({ exec: opts.exec, output: out }));
        else console.log(out);
      }
    }
  } finally {
    await lab.shutdown();
  }
  if (skipped && !opts.json) console.log(`${skipped} task${skipped === 1 ? '' : 's'} skipped on this machine`);
  return failed ? 1 : 0;
}
