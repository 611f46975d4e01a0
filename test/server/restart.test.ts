// The server is killed with SIGKILL in the middle of a session (no chance to clean up):
// its helper and container die with it, and the next start reaps the cgroups, the
// overlay mount and the session directory it left behind; with --seats, the seat's
// processes, its group and its shared mount too.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { kernel, until } from '../support/lab.ts';
import { leftovers } from '../support/leftovers.ts';

function serve(args: string[] = []): Promise<{ proc: ChildProcess; url: URL }> {
  const proc = spawn(process.execPath, ['lab-server/bin/stepbox.mjs', 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /stepbox is ready: (\S+)/.exec(out);
      if (m) ok({ proc, url: new URL(m[1]!) });
    });
    proc.once('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
  });
}

for (const args of [[], ['--seats']]) it(`a killed server ${args.join(' ')} leaves leftovers that the next start reaps`, async () => {
  const first = await serve(args);
  const base = first.url.origin;
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers: { origin: base, cookie: `stepbox_token=${first.url.searchParams.get('token')}` } });
  await new Promise((ok) => ws.once('open', ok));
  const results: { ok: boolean; snapshot: { hostPid: number } }[] = [];
  ws.on('message', (d, binary) => {
    const m = binary ? null : JSON.parse(d.toString());
    if (m?.t === 'result') results.push(m.result);
  });
  ws.on('error', () => undefined);
  ws.send(JSON.stringify({ t: 'hello', v: 1, lesson: 'book', cols: 80, rows: 24 }));
  // Clone, map ids, make and join the cgroups: a container with everything to clean.
  const steps = ['01-clone', '02-idmap', '03-cgroup-create', '04-join-cpu', '05-join-cpuset', '06-join-blkio', '07-join-memory'];
  for (const stepId of steps) ws.send(JSON.stringify({ t: 'run', stepId }));
  let container = 0;
  try {
    expect(await until(() => results.length === steps.length, 10_000)).toBe(true);
    expect(results.every((r) => r.ok)).toBe(true);
    container = results[0]!.snapshot.hostPid;
    expect(leftovers().some((l) => l.includes(`/${first.proc.pid}-`))).toBe(true);
  } finally {
    first.proc.kill('SIGKILL');
    await new Promise((ok) => first.proc.once('exit', ok));
  }
  // The helper dies with its parent, and the container with the helper.
  expect(await until(() => !kernel.alive(container), 5000)).toBe(true);
  // Only what this server made: its sessions are named after its pid.
  const ours = () => leftovers().filter((l) => l.includes(`/${first.proc.pid}-`));
  const left = ours();
  expect(left.some((l) => l.includes('/stepbox/'))).toBe(true);
  expect(left.some((l) => l.startsWith('mount '))).toBe(true);

  // The second server is not seated: a start reaps whatever a dead server left, seats or not.
  const second = await serve();
  try {
    expect(ours()).toEqual([]);
    expect(existsSync(`/run/stepbox/${first.proc.pid}-1`)).toBe(false);
  } finally {
    second.proc.kill('SIGTERM');
    await new Promise((ok) => second.proc.once('exit', ok));
  }
});
