// A workshop as a room lives it: `stepbox workshop` serves HTTPS with a certificate whose
// fingerprint it printed; three students join by the one link, give their names and work,
// each in a seat of their own; the instructor's dashboard shows each of them from the
// lab's own record and the seats' cgroups; a reload brings a student back to their seat.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:tls';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startWorkshop, stopServer, type Workshop } from '../support/served.ts';
import { buildPage, launchBrowser, screen, SHOTS } from './harness.ts';
import type { WorkshopView } from '../../lab-server/src/protocol/workshop.ts';

/** The certificate the server really presents, as a browser would see it. */
function presentedFingerprint(origin: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((ok, fail) => {
    const s = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      ok(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', fail);
  });
}

/** The processes in a seat's cgroup and the groups below it, read from the kernel's files. */
function seatProcesses(serverPid: number, seat: string): number[] {
  const dirs = execFileSync('find', ['/sys/fs/cgroup', '/run/stepbox-cgroup', '-maxdepth', '9', '-type', 'd', '-name', `${serverPid}-${seat}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
  expect(dirs.length, `the cgroup of ${seat}`).toBeGreaterThan(0);
  const files = execFileSync('find', [dirs[0]!, '-name', 'cgroup.procs'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number));
}

describe('stepbox workshop', () => {
  let w: Workshop;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const students: Record<string, Page> = {};
  let instructor: Page;

  beforeAll(async () => {
    buildPage();
    // A short grace: the last test lets a seat be removed while its student is away.
    w = await startWorkshop(['--grace', '3', '--title', 'Containers from scratch']);
    browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    if (w) await stopServer(w.proc);
  }, 30_000);

  /** A browser of its own; the student has checked the fingerprint and accepts the certificate. */
  async function open(url: string): Promise<Page> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 820 }, locale: 'en-US', colorScheme: 'light' });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(url);
    return page;
  }

  const api = (page: Page, path: string) => page.evaluate(async (p) => {
    const r = await fetch(p);
    return { status: r.status, body: r.ok ? await r.text() : '' };
  }, path);

  test('serves the certificate whose fingerprint it printed, and HTTPS only', async () => {
    expect(w.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await presentedFingerprint(w.origin)).toBe(w.fingerprint);
  });

  test('three students join by the one link, give their names and work in seats of their own', async () => {
    for (const name of ['Ada', 'Lin', 'Grace']) {
      const page = await open(w.join);
      await page.getByTestId('display-name').waitFor();
      if (name === 'Ada') await page.screenshot({ path: join(SHOTS, 'workshop-join.png') });
      await page.getByTestId('display-name').fill(name);
      await page.getByRole('button', { name: 'Join' }).click();
      await expect.poll(() => page.locator('.intro .where').innerText(), { timeout: 10_000 }).toMatch(/^You are in seat-\d+/);
      students[name] = page;
    }
    const seats = await Promise.all(Object.values(students).map((p) => p.locator('.intro .where').innerText().then((t) => /seat-\d+/.exec(t)![0])));
    expect(new Set(seats).size).toBe(3);
    await students.Ada!.locator('.topbar .run-all').click();
    await expect.poll(() => students.Ada!.locator('.topbar .progress-text').textContent(), { timeout: 90_000 }).toBe('20 of 20 steps');
    await students.Lin!.locator('article[data-step-id] .run').first().click();
    await expect.poll(() => students.Lin!.locator('.topbar .progress-text').textContent(), { timeout: 10_000 }).toBe('1 of 20 steps');
  }, 150_000);

  test("a student cannot read the dashboard; a wrong join code joins nobody", async () => {
    expect((await api(students.Ada!, '/api/workshop')).status).toBe(403);
    expect((await api(students.Ada!, '/dashboard')).status).toBe(403);
    const stranger = await open(w.join.replace(/code=.*/, 'code=not-the-code'));
    expect(await stranger.locator('body').innerText()).toMatch(/not valid for this workshop/);
  });

  test("the instructor's dashboard shows each student from the lab's record and the seat's cgroups", async () => {
    instructor = await open(w.dashboard);
    const card = (name: string) => instructor.locator('.card', { hasText: name });
    await expect.poll(() => instructor.locator('.card').count(), { timeout: 10_000 }).toBe(3);
    await expect.poll(() => card('Ada').getByTestId('steps').innerText(), { timeout: 10_000 }).toBe('20/20 steps');
    await expect.poll(() => card('Lin').getByTestId('steps').innerText()).toBe('1/20 steps');
    await expect.poll(() => card('Grace').getByTestId('steps').innerText()).toBe('0/20 steps');
    expect(await instructor.getByTestId('join-url').innerText()).toBe(w.join);
    const view = JSON.parse((await api(instructor, '/api/workshop')).body) as WorkshopView;
    const ada = view.seats.find((s) => s.name === 'Ada')!;
    // The seat's own group, as the kernel counts it: a shell and the seat's init at least.
    expect(ada.usage!.pids).toBeGreaterThanOrEqual(2);
    expect(ada.usage!.memoryBytes).toBeGreaterThan(0);
    expect(ada.usage!.memoryMaxBytes).toBe(256 * 2 ** 20);
    const csv = (await api(instructor, '/api/workshop.csv')).body.split('\r\n');
    expect(csv[0]).toMatch(/^student,name,seat,lesson,steps done,steps/);
    expect(csv.some((l) => /^[0-9a-f]{8},Ada,seat-\d+,book,20,20,/.test(l))).toBe(true);
    // CPU is a rate: shown from the dashboard's second reading of the seat on.
    await expect.poll(() => card('Ada').getByTestId('cpu').innerText(), { timeout: 10_000 }).toMatch(/^\d+(\.\d)?%/);
    await instructor.screenshot({ path: join(SHOTS, 'workshop-dashboard.png') });
  }, 30_000);

  test("the instructor watches a student's terminal as the student types, and cannot type into it", async () => {
    const ada = students.Ada!;
    await ada.locator('.xterm').first().click();
    await ada.keyboard.type('echo watched-$((6*7))\n');
    await instructor.locator('.card', { hasText: 'Ada' }).getByTestId('watch').click();
    await expect.poll(() => screen(instructor, 2), { timeout: 10_000 }).toMatch(/^watched-42$/m);
    await ada.keyboard.type('echo after-$((7*7))\n');
    await expect.poll(() => screen(instructor, 2), { timeout: 10_000 }).toMatch(/^after-49$/m);
    await instructor.getByTestId('mirror').locator('.xterm').click();
    await instructor.keyboard.type('echo from-instructor\n');
    await instructor.screenshot({ path: join(SHOTS, 'workshop-mirror.png') });
    await new Promise((r) => setTimeout(r, 500));
    expect(await screen(ada)).not.toMatch(/from-instructor/);
    await instructor.keyboard.press('Escape');
    await expect.poll(() => instructor.getByTestId('mirror').count()).toBe(0);
    // A student cannot open a mirror, not even of themselves.
    const id = (JSON.parse((await api(instructor, '/api/workshop')).body) as WorkshopView).seats.find((s) => s.name === 'Ada')!.student;
    const refused = await ada.evaluate(
      (sid) =>
        new Promise<string>((ok) => {
          const ws = new WebSocket(`wss://${location.host}/mirror?student=${sid}`);
          ws.onopen = () => ok('open');
          ws.onerror = () => ok('refused');
        }),
      id,
    );
    expect(refused).toBe('refused');
  }, 30_000);

  test("the instructor's message reaches every student's page; a stranger's POST changes nothing", async () => {
    await instructor.getByTestId('broadcast').fill('Break until 10:30 / 休息到 10:30');
    await instructor.getByRole('button', { name: 'Send' }).click();
    for (const page of Object.values(students)) await expect.poll(() => page.getByTestId('notice').innerText(), { timeout: 10_000 }).toMatch(/Break until 10:30/);
    await students.Lin!.screenshot({ path: join(SHOTS, 'workshop-notice.png') });
    // A student's own POST, with the page's Origin and their cookies, is refused.
    const asStudent = await students.Ada!.evaluate(async () => (await fetch('/api/workshop/broadcast', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) })).status);
    expect(asStudent).toBe(403);
  }, 30_000);

  test('the instructor holds the room after a step: a later step is refused in words until released', async () => {
    const grace = students.Grace!;
    await instructor.locator('#hold-step').fill('1');
    await instructor.getByTestId('hold').getByRole('button', { name: 'Hold' }).click();
    await expect.poll(() => grace.getByTestId('notice').innerText(), { timeout: 10_000 }).toMatch(/wait after step 1/);
    await grace.locator('article[data-step-id] .run').first().click();
    await expect.poll(() => grace.locator('.topbar .progress-text').textContent(), { timeout: 10_000 }).toBe('1 of 20 steps');
    await grace.locator('.topbar .run-all').click();
    await expect.poll(() => grace.locator('article[data-step-id]').nth(1).innerText(), { timeout: 10_000 }).toMatch(/asked the room to wait after step 1/);
    expect(await grace.locator('.topbar .progress-text').textContent()).toBe('1 of 20 steps');
    await instructor.getByTestId('hold').getByRole('button', { name: 'Release' }).click();
    await expect.poll(() => grace.getByTestId('notice').innerText(), { timeout: 10_000 }).toMatch(/released/);
    await grace.locator('.topbar .run-all').click();
    await expect.poll(() => grace.locator('.topbar .progress-text').textContent(), { timeout: 90_000 }).toBe('20 of 20 steps');
  }, 120_000);

  test("a fresh seat from the dashboard, built up to a step: the old container is reaped and the first steps run again", async () => {
    const lin = students.Lin!;
    const card = instructor.locator('.card', { hasText: 'Lin' });
    const seat = /seat-\d+/.exec(await lin.locator('.intro .where').innerText())![0];
    const before = seatProcesses(w.proc.pid!, seat);
    expect(before.length).toBeGreaterThanOrEqual(3); // the seat's init, its helper, Lin's cloned child
    await card.getByTestId('reset').click();
    // The dialog offers where Lin is (after step 1); the instructor takes her on to step 3.
    expect(await instructor.getByTestId('reset-up-to').inputValue()).toBe('1');
    await instructor.getByTestId('reset-up-to').selectOption('3');
    await instructor.screenshot({ path: join(SHOTS, 'workshop-reset.png') });
    await instructor.getByTestId('reset-go').click();
    await expect.poll(() => lin.locator('.topbar .progress-text').textContent(), { timeout: 20_000 }).toBe('3 of 20 steps');
    expect(await lin.getByTestId('rebuilt').innerText()).toMatch(/fresh seat, built up to step 3\./);
    await expect.poll(() => card.getByTestId('steps').innerText(), { timeout: 10_000 }).toBe('3/20 steps');
    // Every process of the old seat is gone, as the kernel says; the new one has its own.
    await expect.poll(() => before.filter((pid) => existsSync(`/proc/${pid}`)), { timeout: 10_000 }).toEqual([]);
    const now = /seat-\d+/.exec(await lin.locator('.intro .where').innerText())![0];
    expect(seatProcesses(w.proc.pid!, now).length).toBeGreaterThanOrEqual(2);
    // And a clean start, as Restart would give.
    await card.getByTestId('reset').click();
    await instructor.getByTestId('reset-up-to').selectOption('0');
    await instructor.getByTestId('reset-go').click();
    await expect.poll(() => lin.locator('.topbar .progress-text').textContent(), { timeout: 20_000 }).toBe('0 of 20 steps');
    expect(await lin.getByTestId('rebuilt').innerText()).toMatch(/^The instructor gave you a fresh seat\.$/m);
  }, 60_000);

  test("the instructor's POSTs need the page's Origin, JSON and a small, well-formed body", async () => {
    const token = new URL(w.dashboard).searchParams.get('token')!;
    const send = (path: string, body: string, headers: Record<string, string>) =>
      new Promise<number>((ok, fail) => {
        const r = httpsRequest(`${w.origin}${path}`, { method: 'POST', rejectUnauthorized: false, headers: { cookie: `stepbox_token=${token}`, ...headers } }, (res) => {
          res.resume();
          ok(res.statusCode!);
        });
        r.on('error', fail);
        r.end(body);
      });
    const page = { origin: w.origin, 'content-type': 'application/json' };
    expect(await send('/api/workshop/broadcast', '{"text":"x"}', { ...page, origin: 'https://evil.example' })).toBe(403);
    expect(await send('/api/workshop/broadcast', '{"text":"x"}', { origin: w.origin, 'content-type': 'text/plain' })).toBe(415);
    expect(await send('/api/workshop/broadcast', '{"text":', page)).toBe(400);
    expect(await send('/api/workshop/broadcast', JSON.stringify({ text: 'x'.repeat(5000) }), page)).toBe(413);
    expect(await send('/api/workshop/broadcast', JSON.stringify({ text: 'x'.repeat(501) }), page)).toBe(400);
    expect(await send('/api/workshop/broadcast', '{"text":"x","extra":1}', page)).toBe(400);
    expect(await send('/api/workshop/reset', '{"student":"00000000"}', page)).toBe(404);
    expect(await send('/api/lessons', '{}', page)).toBe(405);
  });

  test('a reload brings a student back to the same seat, with what they did', async () => {
    const page = students.Ada!;
    const before = await page.locator('.intro .where').innerText();
    await page.reload();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 10_000 }).toBe('20 of 20 steps');
    expect(await page.locator('.intro .where').innerText()).toBe(before);
    // The name is known: nobody is asked twice.
    expect(await page.getByTestId('display-name').count()).toBe(0);
  });
  test('a student away longer than the grace gets a new seat, built again up to where they were', async () => {
    const lin = students.Lin!;
    await lin.locator('.topbar .run-all').click();
    await expect.poll(() => lin.locator('.topbar .progress-text').textContent(), { timeout: 90_000 }).toBe('20 of 20 steps');
    const seat = /seat-\d+/.exec(await lin.locator('.intro .where').innerText())![0];
    const before = seatProcesses(w.proc.pid!, seat);
    await lin.goto('about:blank');
    // The seat is removed after the grace: its processes are gone, as the kernel says.
    await expect.poll(() => before.filter((pid) => existsSync(`/proc/${pid}`)), { timeout: 20_000 }).toEqual([]);
    await lin.goto(`${w.origin}/`);
    await expect.poll(() => lin.locator('.topbar .progress-text').textContent(), { timeout: 30_000 }).toBe('20 of 20 steps');
    await lin.locator('.xterm').first().click();
    await lin.keyboard.type('hostname; cat /proc/self/uid_map\n');
    await expect.poll(async () => (await screen(lin)).split('\n').map((l) => l.trim().replace(/\s+/g, ' ')), { timeout: 10_000 }).toContain('0 100000 65536');
  }, 150_000);
});

// Idle seats with a tab left open: a warning, then the cgroup freezer, then the seat put
// away with its progress kept; the student's Continue builds a new one up to where they were.
describe('stepbox workshop: a seat nobody uses', () => {
  let w: Workshop;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    buildPage();
    // Frozen after 4.8 s unused (warned 1.2 s before), put away after 12 s.
    w = await startWorkshop(['--seat-idle', '0.08', '--seat-expire', '0.2']);
    browser = await launchBrowser();
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 820 }, locale: 'en-US', colorScheme: 'light' });
  }, 90_000);
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    if (w) await stopServer(w.proc);
  }, 30_000);

  /** The freezer's own word on a seat's group. */
  function frozen(seat: string): boolean {
    const dirs = execFileSync('find', ['/sys/fs/cgroup', '/run/stepbox-cgroup', '-maxdepth', '9', '-type', 'd', '-name', `${w.proc.pid}-${seat}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
    return dirs.some((d) => (existsSync(join(d, 'freezer.state')) && readFileSync(join(d, 'freezer.state'), 'utf8').trim() === 'FROZEN') || (existsSync(join(d, 'cgroup.events')) && /^frozen 1$/m.test(readFileSync(join(d, 'cgroup.events'), 'utf8'))));
  }

  test('warned, frozen, put away, and rebuilt up to the same step when the student continues', async () => {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(w.join);
    await page.getByTestId('display-name').fill('Noor');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('article[data-step-id] .run').first().click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 10_000 }).toBe('1 of 20 steps');
    const seat = /seat-\d+/.exec(await page.locator('.intro .where').innerText())![0];
    const before = seatProcesses(w.proc.pid!, seat);

    await expect.poll(() => page.getByTestId('seat-idle').innerText().catch(() => ''), { timeout: 10_000 }).toMatch(/pauses in about \d+ s/);
    await expect.poll(() => page.getByTestId('seat-idle').innerText().catch(() => ''), { timeout: 10_000 }).toMatch(/is paused because nobody was using it/);
    expect(frozen(seat)).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'workshop-idle.png') });
    // The next step thaws it (before it runs), and the banner goes.
    // (Step 1 has no Run button any more: a second clone() is never offered.)
    await page.locator('article[data-step-id]').nth(1).locator('.run').click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 10_000 }).toBe('2 of 20 steps');
    expect(frozen(seat)).toBe(false);
    await expect.poll(() => page.getByTestId('seat-idle').count(), { timeout: 5_000 }).toBe(0);

    // Left alone again, with the tab open: put away, every process gone, as the kernel says.
    await expect.poll(() => page.getByTestId('seat-expired').count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => before.filter((pid) => existsSync(`/proc/${pid}`)), { timeout: 10_000 }).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'workshop-expired.png') });
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 20_000 }).toBe('2 of 20 steps');
    expect(await page.getByTestId('rebuilt').innerText()).toMatch(/put away while you were gone, so a new one was built up to step 2, where you left off/);
  }, 90_000);
});
