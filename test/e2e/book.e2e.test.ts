// The page against the real server and the real kernel, in Debian's Chromium: a student
// opens the printed link, runs the whole book lesson one step at a time, and talks to the
// container's shell. Also: a page from another origin must not get a session.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SHOTS, screen, useBrowserLab } from './harness.ts';

const lab = useBrowserLab();

/**
 * The first line of a step's code box that has the class given (and matches `text`, if
 * given): its text, whether the box shows it whole without scrolling, and how far its
 * middle is from the box's middle.
 */
/** A new browser context at 1280×720, light, in English, with the book loaded in a fresh container. */
async function freshBook() {
  const context = await lab.browser.newContext({ viewport: { width: 1280, height: 720 }, colorScheme: 'light', locale: 'en-US' });
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(lab.url);
    await page.locator('article[data-step-id]').first().waitFor();
    return { context, page };
  } catch (e) {
    await context.close();
    throw e;
  }
}

function lineInBox(cell: Locator, selector: string, text?: RegExp) {
  return cell.locator('.source .code').evaluate(
    (box, [sel, source]) => {
      const line = [...box.querySelectorAll<HTMLElement>(sel)].find((l) => source === null || new RegExp(source).test(l.innerText));
      if (!line) return null;
      const b = box.getBoundingClientRect();
      const l = line.getBoundingClientRect();
      return { text: line.innerText, shown: l.top >= b.top && l.bottom <= b.bottom, offCentre: Math.abs((l.top + l.bottom) / 2 - (b.top + b.bottom) / 2), height: b.height };
    },
    [selector, text?.source ?? null] as const,
  );
}

describe('the book lesson in a browser', () => {
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    context = await lab.browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light', locale: 'en-US' });
    page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
  });

  afterAll(async () => {
    await context?.close();
  });

  test('the printed link lets the browser in and shows the lesson', async () => {
    await page.goto(lab.url);
    // The token became a cookie and left the address bar.
    expect(page.url()).toBe(`${lab.origin}/`);
    await page.locator('article[data-step-id]').first().waitFor();
    expect(await page.locator('article[data-step-id]').count()).toBe(20);
    await expect.poll(() => page.locator('.topbar .progress-text').textContent()).toBe('0 of 20 steps');
  });

  test('each step runs in order and the kernel confirms it', async () => {
    const ids = await page.$$eval('article[data-step-id]', (cells) => cells.map((c) => (c as HTMLElement).dataset.stepId!));
    // A later step cannot be run before the earlier ones.
    expect(await page.locator(`#step-${ids[1]} button.run`).isDisabled()).toBe(true);

    // Before it runs, the first step's code is open at the clone it will make, not at the
    // time namespace's helper its region starts with; nothing is marked yet.
    const first = page.locator(`#step-${ids[0]}`);
    await expect.poll(() => first.locator('.source .code .line').count()).toBeGreaterThan(0);
    expect(await first.locator('.source .code .line.main, .source .code .line.ran').count()).toBe(0);
    await expect.poll(async () => (await first.locator('.source .code').evaluate((box) => box.scrollTop)) > 0).toBe(true);
    const before = await lineInBox(first, '.line', /= clone\(child_main/);
    expect(before?.shown, "the clone line is outside step 1's code box before it runs").toBe(true);

    for (const [i, id] of ids.entries()) {
      const cell = page.locator(`#step-${id}`);
      await cell.locator('button.run').click();
      await page.waitForFunction((sel) => document.querySelector(sel)?.matches('.ok, .failed, .refused') ?? false, `#step-${id} .badge`, { timeout: 30_000 });
      const ok = await cell.locator('.badge.ok').count();
      expect(ok, `step ${id} did not succeed:\n${await cell.innerText()}`).toBe(1);
      // Every call the step made is listed with the kernel's answer.
      expect(await cell.locator('.calls .call').count(), `step ${id} shows no calls`).toBeGreaterThan(0);
      if (i === 0) {
        // The code box of the step that just ran highlights its clone() and centres it,
        // as a student sees it without scrolling.
        await expect.poll(() => cell.locator('.source .code .line.main').count()).toBeGreaterThan(0);
        const main = await lineInBox(cell, '.line.main');
        expect(main?.text).toMatch(/\bclone\(child_main/);
        expect(main?.shown, 'the clone line is outside the visible code box').toBe(true);
        expect(main!.offCentre).toBeLessThan(main!.height / 4);
        await cell.locator('.source').evaluate((el) => el.scrollIntoView({ block: 'center' }));
        await page.waitForTimeout(150);
        await page.screenshot({ path: join(SHOTS, 'step-code.png') });
      }
    }

    await expect.poll(() => page.locator('.topbar .progress-text').textContent()).toBe('20 of 20 steps');
    // container = cgroup + namespace + rootfs + engine, all four built.
    expect(await page.locator('.diagram .part.lit').count()).toBe(4);
    // The last step's code is open, with the execve line marked as the one that ran.
    await expect.poll(() => page.locator('#step-20-exec .code .line.main').count()).toBeGreaterThan(0);
    expect(await page.locator('#step-20-exec .code .line.main').first().innerText()).toContain('execve(');
    // The first step's code, from the helper's steps.c, marks the clone itself as the call that ran.
    const clone = page.locator('#step-01-clone .source');
    if ((await clone.locator('.toggle').getAttribute('aria-expanded')) !== 'true') await clone.locator('.toggle').click();
    await expect.poll(() => clone.locator('.code .line.main').count()).toBeGreaterThan(0);
    expect(await clone.locator('.code .line.main').first().innerText()).toMatch(/\bclone\(child_main/);
    expect(await clone.locator('.range').innerText()).toMatch(/^steps\.c, lines \d+–\d+$/);
  }, 240_000);

  test("the container's shell answers in the terminal", async () => {
    await page.locator('.xterm').first().click();
    await page.keyboard.type('hostname; echo $$\n');
    // The answer: the two lines right after the command line.
    await expect
      .poll(
        async () => {
          const lines = (await screen(page)).split('\n');
          let at = lines.length - 1;
          while (at >= 0 && !lines[at]!.includes('hostname; echo $$')) at--;
          return at < 0 ? [] : lines.slice(at + 1, at + 3).map((l) => l.trim());
        },
        { timeout: 10_000 },
      )
      .toEqual(['box1', '1']);

    // The picture for the docs: the exec call, the C line behind it, and the shell's answer.
    await page.evaluate(() => document.querySelector('#step-20-exec .source')!.scrollIntoView({ block: 'end' }));
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SHOTS, 'lab.png') });
  });

  test('a flood of output is drawn to the end and the shell stays responsive', async () => {
    await page.locator('.xterm').first().click();
    // ~400 kB in one go: more than the page lets xterm queue before it asks for a pause.
    await page.keyboard.type('seq 1 60000; echo "done-$((6*7))"\n');
    await expect.poll(() => screen(page), { timeout: 30_000 }).toMatch(/^done-42$/m);
    const lines = (await screen(page)).split('\n').map((l) => l.trim());
    expect(lines[lines.lastIndexOf('done-42') - 1]).toBe('60000');
  }, 60_000);

  test('Peek opens a second shell inside the container, and closes', async () => {
    await page.getByRole('button', { name: 'Peek inside' }).click();
    await page.getByRole('tab', { name: /Peek/ }).waitFor();
    await expect.poll(() => screen(page, 1), { timeout: 10_000 }).toContain('peek into');
    // The peek shell has the focus: typing goes to it, not to the container's own shell.
    await page.keyboard.type('hostname\n');
    await expect.poll(async () => (await screen(page, 1)).split('\n').map((l) => l.trim()), { timeout: 10_000 }).toContain('box1');
    await page.getByRole('button', { name: 'Close the peek shell' }).click();
    await expect.poll(() => page.getByRole('tab', { name: /Peek/ }).count()).toBe(0);
    expect(await page.getByRole('tab', { name: /^Container/ }).getAttribute('aria-selected')).toBe('true');
  });

  test('Chinese and the dark theme are one click each, and the terminal follows', async () => {
    await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    await page.getByRole('button', { name: '中文' }).click();
    expect(await page.evaluate(() => [document.documentElement.lang, document.documentElement.dataset.theme])).toEqual(['zh-CN', 'dark']);
    expect(await page.locator('.topbar .btn.primary').innerText()).toContain('全部运行');
    const termBg = await page.locator('.xterm-host').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(termBg).toBe('rgb(11, 13, 16)');
    await page.evaluate(() => document.getElementById('step-03-cgroup-create')!.scrollIntoView({ block: 'start' }));
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(SHOTS, 'lab-dark-zh.png') });
  });

  test('a reload re-attaches the same container, and a deep link focuses its step', async () => {
    await page.evaluate(() => (location.hash = '#/book/05-join-cpuset'));
    await page.reload();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent()).toBe('已完成 20 / 20 步');
    // The server replays the terminal's recent output into the new page.
    await expect.poll(() => screen(page), { timeout: 10_000 }).toContain('box1');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('title-05-join-cpuset');
    // The choices made before the reload stay.
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
  });

  test('Restart gives a clean container, and Shift+Enter runs the next step', async () => {
    const before = await page.evaluate(() => sessionStorage.getItem('stepbox.session.book'));
    const restart = page.locator('.topbar .restart');
    await restart.click();
    // The first click only arms it: a whole container is at stake.
    expect(await page.locator('.topbar .progress-text').textContent()).toBe('已完成 20 / 20 步');
    await restart.click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent()).toBe('已完成 0 / 20 步');
    expect(await page.evaluate(() => sessionStorage.getItem('stepbox.session.book'))).not.toBe(before);
    expect(await page.locator('.diagram .part.lit').count()).toBe(0);

    await page.locator('#title-01-clone').focus();
    await page.keyboard.press('Shift+Enter');
    await page.locator('#step-01-clone .badge.ok').waitFor({ timeout: 30_000 });
    // Like a notebook, the focus moves on to the next step.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('title-02-idmap');
    expect(await page.locator('.diagram .part.ns.lit').count()).toBe(1);
  }, 60_000);

  test("Run all finishes the lesson with the student's own parameters", async () => {
    const name = page.locator('#step-11-hostname input.field-input');
    await name.fill('lab 42');
    // Checked with the server's schema on the page: no spaces in a host name.
    await expect.poll(() => page.locator('#step-11-hostname .problems').count()).toBe(1);
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    await name.fill('lab42');
    await expect.poll(() => page.locator('#step-11-hostname .problems').count()).toBe(0);

    await page.locator('.topbar .run-all').click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 60_000 }).toBe('已完成 20 / 20 步');
    await expect.poll(() => page.locator('.topbar .run-all').isEnabled()).toBe(false);
    await page.locator('.xterm').first().click();
    await page.keyboard.type('hostname\n');
    await expect
      .poll(async () => (await screen(page)).split('\n').map((l) => l.trim()), { timeout: 10_000 })
      .toContain('lab42');
  }, 90_000);
});

describe('another origin', () => {
  let evil: Server;

  afterAll(async () => {
    await new Promise<void>((ok) => (evil ? evil.close(() => ok()) : ok()));
  });

  test('cannot open a session nor stop the lab, even from a browser that holds the cookie', async () => {
    const wsUrl = `${lab.origin.replace(/^http/, 'ws')}/ws`;
    // Requests a page can make to any address, cookie attached: targets that once killed the server.
    const probes = ['//', '//%', '//a:b@', '//[', '/%c0%ae', '/%', '/%zz', '/%ff', '/?token=%zz'].map((p) => lab.origin + p);
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>start</title>
        ${probes.map((u) => `<img src="${u}">`).join('')}
        <script>
        const seen = [];
        for (const u of ${JSON.stringify(probes)}) fetch(u, { mode: 'no-cors', credentials: 'include' }).catch(() => {});
        const ws = new WebSocket(${JSON.stringify(wsUrl)});
        ws.onopen = () => { seen.push('open'); ws.send(JSON.stringify({ t: 'hello', v: 1, lesson: 'book', cols: 80, rows: 24 })); };
        ws.onmessage = (e) => seen.push('message:' + String(e.data).slice(0, 40));
        ws.onerror = () => seen.push('error');
        ws.onclose = () => { seen.push('closed'); document.title = 'done'; window.seen = seen; };
      </script>`);
    });
    await new Promise<void>((ok) => evil.listen(0, '127.0.0.1', ok));
    const evilPort = (evil.address() as AddressInfo).port;

    // Same browser profile as a student who opened the real link: the cookie is there,
    // and 127.0.0.1 on another port is the same *site*, so only the Origin check stands.
    const context = await lab.browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(lab.url);
      await page.locator('article[data-step-id]').first().waitFor();
      await page.goto(`http://127.0.0.1:${evilPort}/`);
      await page.waitForFunction(() => document.title === 'done', undefined, { timeout: 10_000 });
      const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
      expect(seen).not.toContain('open');
      expect(seen.some((s) => s.startsWith('message:'))).toBe(false);
      expect(seen).toContain('closed');
      // The lab is still there for the student.
      expect(lab.server.exitCode).toBeNull();
      await page.goto(lab.origin);
      await page.locator('article[data-step-id]').first().waitFor();
    } finally {
      await context.close();
    }
  });
});

describe('the end of the book lesson', () => {
  test('after the last step, a summary of what the kernel says was built, and where to go next', async () => {
    const { context, page } = await freshBook();
    try {
      const end = page.getByRole('region', { name: 'Lesson complete' });
      expect(await end.count()).toBe(0);

      await page.locator('.topbar .run-all').click();
      await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 90_000 }).toBe('20 of 20 steps');
      await end.waitFor();
      // Said once to a screen reader, as it appears.
      await expect.poll(() => page.getByTestId('lesson-news').textContent()).toBe('Lesson complete: all 20 steps ran. A summary follows the last step.');

      // From the kernel's snapshot: the book's clone and unshare make six namespaces, and the
      // container sits in the lab's group of every controller its second code block joins.
      const ns = end.locator('[data-part=ns]');
      expect(await ns.getAttribute('data-count')).toBe('6');
      expect(await ns.locator('code').allInnerTexts()).toHaveLength(6);
      expect(Number(await end.locator('[data-part=cg]').getAttribute('data-count'))).toBeGreaterThanOrEqual(6);
      expect(await end.locator('[data-part=fs]').getAttribute('data-root')).toBe('pivoted');
      expect(await end.locator('[data-part=en] dd').innerText()).toMatch(/runs, pid 1 inside$/);

      // The calls add up to what each step says it made.
      const perStep = await page.$$eval('article[data-step-id] .outcome h3 .summary', (els) => els.map((e) => e.textContent ?? ''));
      expect(perStep).toHaveLength(20);
      const sum = perStep.reduce((n, text) => n + Number(/^(\d+) calls?/.exec(text)![1]), 0);
      expect(Number(await end.locator('[data-figure=calls] dd').innerText())).toBe(sum);
      expect(await end.locator('[data-figure=kernel-time] dd').innerText()).toMatch(/^[\d.]+ (ns|µs|ms|s)$/);
      expect(await end.locator('[data-figure=tasks] dd').innerText()).toMatch(/^\d+ of \d+$/);
      // Run all was clicked on this page, so it knows how long the lesson took.
      expect(await end.locator('[data-figure=time] dd').innerText()).toMatch(/^\d+ (s|min)/);

      const session = await page.evaluate(() => sessionStorage.getItem('stepbox.session.book'));
      expect(await end.getByRole('link', { name: 'Download what you built' }).getAttribute('href')).toBe(`/api/export/${session}.tar.gz`);
      const next = end.locator('.next a');
      expect(await next.evaluateAll((links) => links.map((a) => a.getAttribute('href')))).toEqual(['#/ns-pid', '#/cg-memory', '#/harden', '#/overlay', '#/engine']);

      // The picture for the docs: the summary from its title, just under the top bar.
      await end.evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 60));
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(SHOTS, 'lesson-end.png') });

      // The next lesson is one Tab away from the download, and Enter opens it.
      await end.getByRole('link', { name: 'Download what you built' }).focus();
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('href'))).toBe('#/ns-pid');
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('.notebook h1').innerText()).toMatch(/^PID namespace/);
      expect(await end.count()).toBe(0);
    } finally {
      await context.close();
    }
  }, 150_000);
});

describe('the kernel panel follows the steps', () => {
  test('at 1280×720 a step opens the section it changed, brings it into the panel and marks what is new', async () => {
    const { context, page } = await freshBook();
    try {
      await page.locator('details[data-section="namespaces"]').waitFor();

      const run = async (id: string) => {
        const cell = page.locator(`#step-${id}`);
        await cell.locator('button.run').click();
        await page.waitForFunction((sel) => document.querySelector(sel)?.matches('.ok, .failed, .refused') ?? false, `#step-${id} .badge`, { timeout: 30_000 });
        expect(await cell.locator('.badge.ok').count(), `step ${id} did not succeed:\n${await cell.innerText()}`).toBe(1);
      };
      /**
       * A section as the panel shows it: open or not, whether its heading and the first of
       * the rows the last step changed are inside the panel's own scrolling box (under its
       * sticky header), and how far that box is scrolled.
       */
      const seen = (id: string) =>
        page.locator(`details[data-section="${id}"]`).evaluate((section: HTMLDetailsElement) => {
          const box = section.closest('.kernel-scroll')!;
          const b = box.getBoundingClientRect();
          const top = b.top + box.querySelector('header')!.getBoundingClientRect().height;
          const inside = (el: Element) => {
            const r = el.getBoundingClientRect();
            return el.checkVisibility() && r.height > 0 && r.top >= top - 1 && r.bottom <= b.bottom + 1;
          };
          const marked = [...section.querySelectorAll('tr.changed')];
          return {
            open: section.open,
            heading: inside(section.querySelector('summary')!),
            marked: marked.length,
            firstMarkedShown: marked.length > 0 && inside(marked[0]!),
            tagged: section.querySelector('summary .step-tag') !== null,
            panelTop: box.scrollTop,
          };
        });

      await run('01-clone');
      await expect.poll(async () => (await seen('namespaces')).marked).toBe(6);
      // Collapsed until a step writes it: the id map is below the namespaces and cgroups.
      expect((await seen('idmap')).open).toBe(false);

      await run('02-idmap');
      await expect.poll(() => seen('idmap')).toMatchObject({ open: true, heading: true, marked: 2, firstMarkedShown: true, tagged: true });
      expect((await seen('idmap')).panelTop, 'the panel did not scroll').toBeGreaterThan(0);
      // The marks are the last step's: the namespaces the clone made are no longer tagged.
      expect(await seen('namespaces')).toMatchObject({ marked: 0, tagged: false });

      await run('03-cgroup-create');
      // The limits it wrote, each read back from the kernel, marked as new: below the long
      // membership list of a v1 machine, the first of them is what the panel shows.
      await expect.poll(() => seen('cgroups')).toMatchObject({ open: true, firstMarkedShown: true, tagged: true });
      expect((await seen('cgroups')).marked).toBeGreaterThanOrEqual(7);
      expect((await seen('idmap')).tagged).toBe(false);

      await page.waitForTimeout(300);
      await page.screenshot({ path: join(SHOTS, 'panel-follows.png') });
    } finally {
      await context.close();
    }
  }, 90_000);
});
