// The web server hands out root shells: only this machine's browser, holding this
// launch's token, on the page this server served, may open a session.
import { request } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { LabServer } from '../../lab-server/src/server/app.ts';
import { until } from '../support/lab.ts';
import { useServer } from '../support/server.ts';

const lab = useServer(0.3);
let server: LabServer;
let base: string;
let token: string;

beforeAll(() => {
  ({ server, base, token } = lab());
});

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const cookie = () => `stepbox_token=${token}`;

/** Try to open a WebSocket; resolves with the HTTP status of a refusal, or the open socket. */
function connect(headers: Record<string, string>): Promise<{ status?: number; ws?: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers });
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.on('error', () => resolve({ status: -1 }));
  });
}

const good = () => ({ origin: base, cookie: cookie() });

function nextMessage(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (d, binary) => (binary ? resolve({ binary: true }) : resolve(JSON.parse(d.toString())))));
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

describe('HTTP', () => {
  it('refuses a page without the cookie', async () => {
    expect((await get('/')).status).toBe(401);
  });
  it('refuses a wrong token', async () => {
    expect((await get(`/?token=${'0'.repeat(64)}`)).status).toBe(403);
  });
  it('trades the right token for an HttpOnly SameSite=Strict cookie', async () => {
    const r = await get(`/?token=${token}`);
    expect(r.status).toBe(303);
    expect(String(r.headers['set-cookie'])).toMatch(/stepbox_token=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\//);
    expect(r.headers.location).toBe('/');
  });
  it('refuses an unknown Host (DNS rebinding)', async () => {
    expect((await get('/', { host: 'evil.example:80', cookie: cookie() })).status).toBe(421);
  });
  it('sends a strict CSP and refuses framing on every answer, refusals included', async () => {
    for (const [path, headers] of [['/', {}], ['/', { cookie: cookie() }], ['/api/lessons', { cookie: cookie() }], [`/?token=${token}`, {}], ['//', {}]] as const) {
      const r = await get(path, headers);
      expect(r.headers['content-security-policy'], path).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
  });
  it('serves the lesson list with the cookie', async () => {
    const r = await get('/api/lessons', { cookie: cookie() });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).map((l: { id: string }) => l.id)).toContain('book');
  });
});

describe('WebSocket upgrade', () => {
  it.each([
    ['another origin', { origin: 'http://evil.example', cookie: '' }, 403],
    ['a missing origin', { cookie: '' }, 403],
    ['a null origin', { origin: 'null', cookie: '' }, 403],
    ['a bad host', { origin: 'http://evil.example:1', host: 'evil.example:1', cookie: '' }, 421],
    ['no cookie', { origin: '' }, 401],
    ['a wrong token', { origin: '', cookie: `stepbox_token=${'f'.repeat(64)}` }, 401],
  ])('refuses %s, and no session is made', async (_name, h, status) => {
    const headers: Record<string, string> = { ...h };
    if (headers.origin === '') headers.origin = base;
    if (headers.cookie === '') headers.cookie = cookie();
    const r = await connect(headers);
    expect(r.status).toBe(status);
    expect(server.hub.size).toBe(0);
  });

  it('opens a session for the right page, and reaps it after the grace period', async () => {
    const { ws } = await connect(good());
    ws!.send(JSON.stringify({ t: 'hello', v: 1, lesson: 'book', cols: 80, rows: 24 }));
    const welcome = await nextMessage(ws!);
    expect(welcome.t).toBe('welcome');
    expect(server.hub.size).toBe(1);
    ws!.close();
    expect(await until(() => server.hub.size === 0, 3000)).toBe(true);
  });
});

describe('messages', () => {
  it.each([
    ['malformed JSON', 'not json{'],
    ['an unknown type', JSON.stringify({ t: 'format-disk' })],
    ['a step before hello', JSON.stringify({ t: 'run', stepId: '01-clone' })],
    ['extra fields', JSON.stringify({ t: 'hello', v: 1, lesson: 'book', cols: 80, rows: 24, evil: true })],
  ])('closes the socket on %s (policy error), with no session', async (_name, text) => {
    const { ws } = await connect(good());
    const code = closed(ws!);
    ws!.send(text);
    expect(await code).toBe(1008);
    expect(server.hub.size).toBe(0);
  });

  it('closes the socket on an oversized frame', async () => {
    const { ws } = await connect(good());
    const code = closed(ws!);
    ws!.send('x'.repeat(70 * 1024));
    expect(await code).toBe(1009);
    expect(server.hub.size).toBe(0);
  });

  it('runs a step and refuses one out of order', async () => {
    const { ws } = await connect(good());
    ws!.send(JSON.stringify({ t: 'hello', v: 1, lesson: 'book', cols: 80, rows: 24 }));
    const welcome = await nextMessage(ws!);
    const messages: Record<string, unknown>[] = [];
    ws!.on('message', (d, binary) => !binary && messages.push(JSON.parse(d.toString())));
    ws!.send(JSON.stringify({ t: 'run', stepId: '03-cgroup-create' }));
    await until(() => messages.some((m) => m.t === 'result'));
    const refused = messages.find((m) => m.t === 'result')!.result as { ok: boolean; refusal: { code: string } };
    expect(refused.ok).toBe(false);
    expect(refused.refusal.code).toBe('out-of-order');
    messages.length = 0;
    ws!.send(JSON.stringify({ t: 'run', stepId: '01-clone' }));
    await until(() => messages.some((m) => m.t === 'result'));
    const done = messages.find((m) => m.t === 'result')!.result as { ok: boolean; snapshot: { hostPid: number } };
    expect(done.ok).toBe(true);
    expect(done.snapshot.hostPid).toBeGreaterThan(1);
    // A reload within the grace period gets the same container back.
    ws!.close();
    const again = (await connect(good())).ws!;
    again.send(JSON.stringify({ t: 'hello', v: 1, lesson: 'book', session: welcome.session, cols: 80, rows: 24 }));
    const back = await nextMessage(again);
    expect(back.session).toBe(welcome.session);
    expect((back.results as unknown[]).length).toBe(2);
    expect((back.snapshot as { hostPid: number }).hostPid).toBe(done.snapshot.hostPid);
    again.close();
    expect(await until(() => server.hub.size === 0, 3000)).toBe(true);
  });
});
