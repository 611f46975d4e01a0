// A `yes` flood in the container must not grow the server's memory: when the page says
// pause, the server stops reading the pty and the producer blocks in the kernel.
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { sleep, until } from '../support/lab.ts';
import { useServer } from '../support/server.ts';

const lab = useServer(0.2);

it('pause stops the flood, resume restarts it, memory stays flat', async () => {
  const { base, cookie, server } = lab();
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers: { origin: base, cookie } });
  await new Promise((ok) => ws.once('open', ok));
  let bytes = 0;
  const results: { ok: boolean }[] = [];
  ws.on('message', (d, binary) => {
    if (binary) bytes += (d as Buffer).length - 1;
    else {
      const m = JSON.parse(d.toString());
      if (m.t === 'result') results.push(m.result);
    }
  });
  ws.send(JSON.stringify({ t: 'hello', v: 1, lesson: 'book', cols: 80, rows: 24 }));
  ws.send(JSON.stringify({ t: 'runAll' }));
  const finished = await until(() => results.length === 20 || results.some((r) => !r.ok), 20_000);
  expect(finished).toBe(true);
  expect(results.every((r) => r.ok)).toBe(true);

  const input = (s: string) => ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(s)]));
  input('yes\n');
  expect(await until(() => bytes > 4 * 1024 * 1024, 10_000)).toBe(true);
  const rss0 = process.memoryUsage().rss;
  ws.send(JSON.stringify({ t: 'pause' }));
  await sleep(300);
  const paused = bytes;
  await sleep(700);
  // Only what was already in flight may still arrive.
  expect(bytes - paused).toBeLessThan(256 * 1024);
  expect(process.memoryUsage().rss - rss0).toBeLessThan(32 * 1024 * 1024);
  ws.send(JSON.stringify({ t: 'resume' }));
  expect(await until(() => bytes - paused > 2 * 1024 * 1024, 10_000)).toBe(true);
  input('\x03');
  ws.close();
  expect(await until(() => server.hub.size === 0, 3000)).toBe(true);
});
