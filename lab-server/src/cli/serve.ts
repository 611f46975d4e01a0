// `stepbox serve`: the lab in a browser. Loopback only unless told otherwise, loudly.
import { Lab } from '../session/lab.ts';
import { LabServer } from '../server/app.ts';

export interface ServeCliOptions {
  host: string;
  port: string;
  allowHost: string[];
  grace: string;
  image?: string;
  cgroupParent?: string;
}

export async function serve(o: ServeCliOptions): Promise<void> {
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(o.host);
  if (!loopback) {
    console.warn(`WARNING: listening on ${o.host}. Anyone who can reach it and holds the token gets a root shell on this machine.`);
  }
  const lab = await Lab.start({ image: o.image, cgroupParent: o.cgroupParent });
  const server = new LabServer(lab, { host: o.host, port: Number(o.port), allowHosts: o.allowHost, graceSeconds: Number(o.grace) });
  const url = await server.listen();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: reaping every session…`);
    await server.close();
    await lab.shutdown();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  console.log(`stepbox is ready: ${url}`);
  console.log('  Open it in a browser on this machine. / 请在本机的浏览器中打开这个地址。');
  console.log('  Ctrl+C stops the lab and removes every container it made. / 按 Ctrl+C 停止，并清除它创建的所有容器。');
}
