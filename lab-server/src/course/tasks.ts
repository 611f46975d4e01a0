// Checks of a lesson's tasks against the kernel, and their scripted solutions.
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { join } from 'node:path';
import { STEPPER } from '../helper/client.ts';
import { COUNTERS, type Controller, type Counter } from '../protocol/kernel.ts';
import { counterSource } from '../cgroup/counters.ts';
import type { Session } from '../session/session.ts';
import { isAlive, onlineCpus } from '../sys/proc.ts';
import { perfCountCgroup } from '../sys/ffi.ts';
import { escaped, stayedInside } from './escape.ts';
import { groupFile, kernelAtLeast, type Task } from '../protocol/lesson.ts';
import type { Said } from '../protocol/results.ts';
import { typeAndCapture } from '../session/terminal.ts';

const CHECK_TIMEOUT_MS = 3000;

function matches(text: string, check: { equals?: string; matches?: string }): boolean {
  const got = text.trim();
  if (check.equals !== undefined && got !== check.equals) return false;
  if (check.matches !== undefined && !new RegExp(check.matches, 'm').test(got)) return false;
  return true;
}

/**
 * Run argv inside the container's namespaces: the helper's peek mode, without a terminal.
 * With inGroup the probe first enters the session's group of that controller; `input` is
 * its standard input.
 */
export async function inside(session: Session, argv: string[], inGroup?: Controller, input = ''): Promise<string> {
  const pid = session.state.pid;
  if (pid === null || !isAlive(pid)) throw new Error('no container process');
  const home = inGroup && session.cgroups.home(inGroup);
  if (inGroup && (!home || !session.state.cgroups[inGroup])) throw new Error(`no ${inGroup} group`);
  const env = home ? { ...process.env, STEPBOX_CGROUP_PROCS: join(session.cgroups.dir(home, session.name), 'cgroup.procs') } : process.env;
  return probe(['peek', String(pid), ...argv], env, input);
}

/**
 * Run argv on the host the lesson speaks of: in a seat, joined to the namespaces of the
 * helper's half inside it (as the seat's root could not: that process is not dumpable); on
 * the machine, in the lab server's own, where peek joins nothing.
 */
export function onHost(session: Session, argv: string[]): Promise<string> {
  return probe(['peek', String(session.seat?.server ?? process.pid), ...argv], process.env, '');
}

function probe(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<string> {
  return new Promise((ok, fail) => {
    const child = execFile(STEPPER, args, { timeout: CHECK_TIMEOUT_MS, encoding: 'utf8', env }, (e, stdout) => (e ? fail(e) : ok(stdout)));
    child.stdin?.on('error', () => undefined); // a probe that exits without reading its input
    child.stdin?.end(input);
  });
}

function hostPath(session: Session, path: string): string {
  return path
    .replace(/\{pid\}/g, String(session.state.pid ?? 0))
    .replace(/\{cgroup:([a-z_]+)\}/g, (_, c: string) => {
      const home = session.cgroups.home(c as Controller);
      return home ? session.cgroups.dir(home, session.name) : '/nonexistent';
    });
}

/** A counter of the session's group, from this machine's file for it; null if there is none yet. */
function readCounter(session: Session, counter: Counter): number | null {
  const controller = COUNTERS[counter];
  const home = session.cgroups.home(controller);
  if (!home || !session.state.cgroups[controller]) return null;
  const source = counterSource(counter, home.hierarchy.version);
  if (!source) return null;
  return source.read(session.cgroups.read(controller, session.name, source.file));
}

/** What the checks of one counter have seen of it in one container: where it stood when first asked, and when it first moved and first reached a task's goal. */
interface Seen {
  base: number;
  movedAt?: number;
  goalAt?: number;
}
const seen = new WeakMap<Session, Map<string, Seen>>();

function counterHolds(session: Session, check: Extract<Task['check'], { kind: 'counter' }>): boolean {
  const now = readCounter(session, check.counter);
  if (now === null) return false;
  // A counter that cannot be read cannot vouch that nothing happened.
  if (check.unless && (readCounter(session, check.unless) ?? 1) > 0) return false;
  const mine = seen.get(session) ?? seen.set(session, new Map()).get(session)!;
  const key = `${session.state.pid}:${check.counter}`;
  const s = mine.get(key) ?? mine.set(key, { base: now }).get(key)!;
  const t = performance.now();
  if (now > s.base) s.movedAt ??= t;
  const atGoal = check.atLeast !== undefined ? now >= check.atLeast : now - s.base >= check.rises!;
  if (!atGoal) return false;
  if (check.spreadMs === undefined) return true;
  s.goalAt ??= t;
  return s.movedAt !== undefined && s.goalAt - s.movedAt >= check.spreadMs;
}

/** What perf counts for the session's group while the check waits, in the event's unit (ms for the clocks). */
async function perfHolds(session: Session, check: Extract<Task['check'], { kind: 'perf' }>): Promise<boolean> {
  const home = session.cgroups.home('perf_event');
  if (!home || !session.state.cgroups.perf_event) return false;
  const counting = perfCountCgroup(session.cgroups.dir(home, session.name), check.event, onlineCpus());
  try {
    await sleep(check.windowMs);
    const n = counting.read();
    return Number(check.event.endsWith('-clock') ? n / 1_000_000n : n) >= check.atLeast;
  } finally {
    counting.close();
  }
}

/**
 * Why a task cannot be done on this machine, or null when it can: a check of a group file
 * of one cgroup version only, where that controller is on the other.
 */
export function notHere(session: Session, task: Task, release = osRelease()): Said | null {
  const k = task.minKernel;
  if (k && !kernelAtLeast(release, k.version)) {
    return { en: `it needs Linux ${k.version} or later, and this machine runs ${release}: ${k.why.en}`, zh: `它需要 Linux ${k.version} 或更新的内核，而这台机器运行的是 ${release}：${k.why.zh}` };
  }
  const c = task.check;
  if (c.kind !== 'file' || c.cgroup === undefined) return null;
  const group = groupFile(c.path);
  if (!group || session.cgroups.home(group.controller as Controller)?.hierarchy.version === c.cgroup) return null;
  return {
    en: `its check reads ${group.file}, a cgroup v${c.cgroup} file, and this machine has that controller on v${3 - c.cgroup}`,
    zh: `它的检查读取 ${group.file}，这是 cgroup v${c.cgroup} 的文件，而这台机器上该控制器在 v${3 - c.cgroup} 上`,
  };
}

/** Does the kernel say the task is done? Any failure to ask counts as "not yet". */
export async function taskDone(session: Session, task: Task): Promise<boolean> {
  try {
    const c = task.check;
    if (c.kind === 'escaped') return c.expect ? escaped(session) : stayedInside(session);
    if (c.kind === 'counter') return counterHolds(session, c);
    if (c.kind === 'perf') return await perfHolds(session, c);
    if (notHere(session, task)) return false;
    const text = c.kind === 'inside' ? await inside(session, c.argv, c.inGroup, c.host ? await onHost(session, c.host) : '') : readFileSync(hostPath(session, c.path), 'utf8');
    return matches(text, c);
  } catch {
    return false;
  }
}

/** Type a task's solution into the container's shell, or before exec run it inside its namespaces. */
export function typeSolution(session: Session, task: Task, timeoutMs = 8000): Promise<string> {
  return session.state.phase === 'running' ? typeAndCapture(session, task.solution, timeoutMs) : inside(session, ['/bin/sh', '-c', task.solution]);
}

/**
 * Do what a student would: type the solution into the container's shell (or, before exec,
 * run it inside the container's namespaces), then wait for the kernel to agree.
 */
export async function solveTask(session: Session, task: Task, timeoutMs = 8000): Promise<boolean> {
  // A solution that ends the shell or never returns (e.g. it starts a shell of its own) is
  // the check's to judge, not a crash: the check is asked while it runs, too.
  let running = true;
  const typed = typeSolution(session, task, timeoutMs);
  void typed.catch(() => '').finally(() => (running = false));
  /** Ask the check every 100 ms for up to timeoutMs, while keepGoing holds. */
  const poll = async (keepGoing: () => boolean) => {
    for (const t0 = Date.now(); keepGoing() && Date.now() - t0 < timeoutMs; await sleep(100)) if (await taskDone(session, task)) return true;
    return false;
  };
  // While the solution runs, then for as long again once it has finished.
  return (await poll(() => running)) || (await poll(() => true));
}
