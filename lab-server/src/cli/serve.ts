// `stepbox serve`: the lab in a browser. Loopback only unless told otherwise, loudly.
import { setFlagsFromString } from 'node:v8';
import { Lab } from '../session/lab.ts';
import { LabServer } from '../server/app.ts';
import { reapOnExit } from './reap-on-exit.ts';
import { seatsFrom, type SeatCliOptions } from './seat-options.ts';

export interface ServeCliOptions extends SeatCliOptions {
  host: string;
  port: string;
  allowHost: string[];
  grace: string;
  maxSessions?: string;
  image?: string;
  cgroupParent?: string;
}

export async function serve(o: ServeCliOptions): Promise<void> {
  // A terminal in flood allocates a little for every read. V8 answers a high allocation
  // rate by growing its young generation from 1 MiB to 16 MiB per semi-space and keeps it:
  // +30-50 MB of RSS for as long as the server runs. A lab server's objects are short-lived
  // and few: its young generation stays at its first size (scavenges get more frequent, and
  // stay cheap). Measured in test/server/floods.test.ts.
  setFlagsFromString('--semi-space-growth-factor=1');
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(o.host);
  const seats = seatsFrom(o);
  if (!loopback) {
    console.warn(
      seats
        ? `WARNING: listening on ${o.host}. Anyone who can reach it and holds the token gets a seat: root inside it, an ordinary user of this machine outside.`
        : `WARNING: listening on ${o.host}. Anyone who can reach it and holds the token gets a root shell on this machine (--seats seals each session in a seat).`,
    );
  }
  // One helper waits, spawned ahead of time: a new tab or a Restart does not wait for one.
  const lab = await Lab.start({ image: o.image, cgroupParent: o.cgroupParent, warm: 1, seats });
  const server = new LabServer(lab, {
    host: o.host,
    port: Number(o.port),
    allowHosts: o.allowHost,
    graceSeconds: Number(o.grace),
    maxSessions: o.maxSessions === undefined ? undefined : Number(o.maxSessions),
  });
  reapOnExit(async () => {
    await server.close();
    await lab.shutdown();
  });
  const url = await server.listen();
  console.log(`stepbox is ready: ${url}`);
  console.log('  Open it in a browser on this machine. / 请在本机的浏览器中打开这个地址。');
  console.log('  Ctrl+C stops the lab and removes every container it made. / 按 Ctrl+C 停止，并清除它创建的所有容器。');
}
