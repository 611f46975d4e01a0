// `stepbox serve`: the lab in a browser. Loopback only unless told otherwise, loudly.
import { Lab } from '../session/lab.ts';
import { LabServer } from '../server/app.ts';
import { reapOnExit } from './reap-on-exit.ts';

export interface ServeCliOptions {
  host: string;
  port: string;
  allowHost: string[];
  grace: string;
  maxSessions?: string;
  image?: string;
  cgroupParent?: string;
}

export async function serve(o: ServeCliOptions): Promise<void> {
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(o.host);
  if (!loopback) {
    console.warn(`WARNING: listening on ${o.host}. Anyone who can reach it and holds the token gets a root shell on this machine.`);
  }
  const lab = await Lab.start({ image: o.image, cgroupParent: o.cgroupParent });
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
