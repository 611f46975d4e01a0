// The page's download of what the student built: a tar.gz of the OCI bundle and run.sh,
// packed from the session's own steps, only for whoever holds the session.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { poolDir } from '../../lab-server/src/session/paths.ts';
import { until } from '../support/lab.ts';
import { PageClient } from '../support/page-client.ts';
import { useServer } from '../support/server.ts';

const server = useServer(5);
const pages: PageClient[] = [];
afterEach(async () => void (await Promise.all(pages.splice(0).map((p) => p.close()))));

async function page(): Promise<{ p: PageClient; session: string }> {
  const p = await PageClient.connect(server().base, server().cookie);
  pages.push(p);
  p.hello('book');
  const welcome = await p.next((m) => m.t === 'welcome');
  return { p, session: welcome.session as string };
}

const get = (path: string, cookie = server().cookie) => fetch(`${server().base}${path}`, { headers: { cookie } });

describe('export download', () => {
  it('packs config.json, run.sh and the rootfs of the steps run so far, and leaves no folder behind', async () => {
    const { p, session } = await page();
    expect((await get(`/api/export/${session}.tar.gz`)).status).toBe(409);
    await p.run('01-clone', '02-idmap', '03-cgroup-create', ...['cpu', 'cpuset', 'blkio', 'memory', 'devices', 'freezer', 'pids'].map((c, i) => `${String(i + 4).padStart(2, '0')}-join-${c}`), '11-hostname');
    const res = await get(`/api/export/${session}.tar.gz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="stepbox-book.tar.gz"');
    const files = execFileSync('tar', ['-tz'], { input: Buffer.from(await res.arrayBuffer()) }).toString().split('\n');
    expect(files).toEqual(expect.arrayContaining(['book/config.json', 'book/run.sh', 'book/README.md', 'book/rootfs/bin/busybox']));
    const config = JSON.parse(execFileSync('tar', ['-xzO', 'book/config.json'], { input: Buffer.from(await (await get(`/api/export/${session}.tar.gz`)).arrayBuffer()) }).toString());
    expect(config.hostname).toBe('box1');
    expect(config.linux.uidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    // The folder goes once tar has exited, which may be just after the last byte arrived.
    expect(await until(() => !existsSync(poolDir()) || readdirSync(poolDir()).every((d) => !d.startsWith('export-')))).toBe(true);
  });

  it('is nobody else\'s: an unknown session or a request without the cookie gets nothing', async () => {
    const { p, session } = await page();
    await p.run('01-clone');
    expect((await get(`/api/export/${'x'.repeat(24)}.tar.gz`)).status).toBe(404);
    expect((await get(`/api/export/${session}.tar.gz`, '')).status).toBe(401);
    expect((await get(`/api/export/${session}.zip`)).status).toBe(404);
  });
});
