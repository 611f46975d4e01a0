// GET /api/export/<session>.tar.gz: what a student built, as a folder to take home (an OCI
// bundle and run.sh, export/bundle.ts), packed by tar while it streams. The session id is
// the page's own secret (18 random bytes); in a workshop a student may export only their own.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { defaultCgroupsPath, writeBundle } from '../export/bundle.ts';
import { specOf } from '../export/spec.ts';
import { defaultDisk, imageDir } from '../rootfs/images.ts';
import { poolDir } from '../session/paths.ts';
import type { Hub } from './hub.ts';

/** One export at a time: each copies an image, and a page may ask as often as it likes. */
let busy = false;

export async function exportSession(hub: Hub, id: string, allowed: (entryId: string) => boolean, res: ServerResponse): Promise<void> {
  const entry = hub.find(id);
  if (!entry || !allowed(entry.id)) return void res.writeHead(404).end();
  if (busy) return void res.writeHead(429, { 'retry-after': '2', 'content-type': 'text/plain' }).end('Another export is being packed; try again in a moment.\n');
  const play = entry.play;
  const steps = play.builtSteps();
  if (steps.length === 0) return void res.writeHead(409, { 'content-type': 'text/plain' }).end('Nothing is built yet: run a step first.\n');
  busy = true;
  const lesson = play.lesson.id;
  let dir: string | undefined;
  let finished = false;
  const done = () => {
    if (finished) return;
    finished = true;
    busy = false;
    if (dir) void rm(dir, { recursive: true, force: true });
  };
  try {
    // Under the lab's own run-time folder: a crash leaves it to the next start's cleanup.
    await mkdir(poolDir(), { recursive: true });
    dir = await mkdtemp(join(poolDir(), 'export-'));
    const { image, cgroups } = hub.lab;
    await writeBundle(join(dir, lesson), specOf(image, steps), { lesson, cgroupsPath: defaultCgroupsPath(cgroups.host, `stepbox-${lesson}`), disk: defaultDisk(imageDir(image)) });
  } catch (e) {
    done();
    return void res.writeHead(500, { 'content-type': 'text/plain' }).end(`The export failed: ${(e as Error).message}\n`);
  }
  // The page went away while the bundle was written: nothing to send it to.
  if (res.destroyed) return done();
  res.writeHead(200, { 'content-type': 'application/gzip', 'content-disposition': `attachment; filename="stepbox-${lesson}.tar.gz"`, 'cache-control': 'no-store' });
  const tar = spawn('tar', ['-C', dir, '--numeric-owner', '-cz', lesson], { stdio: ['ignore', 'pipe', 'ignore'] });
  tar.stdout.pipe(res);
  tar.on('close', done);
  // No tar on the machine: the answer ends short rather than the server falling over.
  tar.on('error', () => {
    done();
    res.destroy();
  });
  res.on('close', () => tar.kill());
}
