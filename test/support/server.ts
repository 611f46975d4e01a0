// A real lab server on a free loopback port for a test file, with what a client needs
// to reach it: its base URL and the launch's token.
import { afterAll, beforeAll } from 'vitest';
import { LabServer } from '../../lab-server/src/server/app.ts';
import { Lab } from '../../lab-server/src/session/lab.ts';

export interface TestServer {
  server: LabServer;
  /** http://127.0.0.1:<port> */
  base: string;
  token: string;
  /** The cookie header the page would send after trading the token. */
  cookie: string;
}

export function useServer(graceSeconds: number): () => TestServer {
  let lab: Lab;
  let t: TestServer;
  beforeAll(async () => {
    lab = await Lab.start();
    const server = new LabServer(lab, { host: '127.0.0.1', port: 0, allowHosts: [], graceSeconds });
    const url = new URL(await server.listen());
    const token = url.searchParams.get('token')!;
    t = { server, base: `${url.protocol}//${url.host}`, token, cookie: `stepbox_token=${token}` };
  });
  afterAll(async () => {
    await t.server.close();
    await lab.shutdown();
  });
  return () => t;
}
