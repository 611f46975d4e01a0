// One lifecycle for the whole page, against the real server and kernel: a student plays the
// book, meets "Run again" only where the server would run a step again, reads what the peek
// shell is, types a lesson's command with one click, reloads and lands where they were,
// then exits the container's shell. After that exit the terminal, the kernel panel, the top
// bar and the steps must all say the same thing, and nothing may cover the shell's last lines.
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SHOTS, screen, useBrowserLab } from './harness.ts';

const lab = useBrowserLab();

/** Run one step with its Run button and wait for the kernel's answer; it must succeed. */
async function runStep(page: Page, id: string): Promise<void> {
  const cell = page.locator(`#step-${id}`);
  await cell.locator('button.run').click();
  await page.waitForFunction((sel) => document.querySelector(sel)?.matches('.ok, .failed, .refused') ?? false, `#step-${id} .badge`, { timeout: 30_000 });
  expect(await cell.locator('.badge.ok').count(), `step ${id} did not succeed:\n${await cell.innerText()}`).toBe(1);
}

/** The steps that show a Run button (Run, or Run again). */
function stepsWithRun(page: Page): Promise<string[]> {
  return page.$$eval('article[data-step-id]', (cells) => cells.filter((c) => c.querySelector('button.run')).map((c) => (c as HTMLElement).dataset.stepId!));
}

/** The step whose title is the first below the top bar: the one at the top of the notebook's view. */
function stepAtTop(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const edge = document.querySelector('.topbar')!.getBoundingClientRect().bottom;
    const title = [...document.querySelectorAll<HTMLElement>('article[data-step-id] h2')].find((h) => h.getBoundingClientRect().top >= edge);
    return title?.closest<HTMLElement>('article')?.dataset.stepId ?? null;
  });
}

describe('the lifecycle of the book container, in a browser', () => {
  let context: BrowserContext;
  let page: Page;
  let ids: string[];

  beforeAll(async () => {
    context = await lab.browser.newContext({ viewport: { width: 1280, height: 720 }, colorScheme: 'light', locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: lab.origin });
    page = await context.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(lab.url);
    await page.locator('article[data-step-id]').first().waitFor();
    ids = await page.$$eval('article[data-step-id]', (cells) => cells.map((c) => (c as HTMLElement).dataset.stepId!));
    expect(ids).toHaveLength(20);
  });

  afterAll(async () => {
    await context?.close();
  });

  test('Run again only where the server would run the step again; a fixed step has no editor', async () => {
    expect(await page.getByTestId('life').innerText()).toBe('No container yet');
    for (const id of ids.slice(0, 11)) await runStep(page, id);
    expect(await page.getByTestId('life').innerText()).toBe('Built, waiting for exec');
    // The steps done: clone() and the id maps can never run twice in one container, the
    // host name can be set again while the child waits.
    const withRun = await stepsWithRun(page);
    expect(withRun).not.toContain('01-clone');
    expect(withRun).not.toContain('02-idmap');
    expect(withRun).toContain('11-hostname');
    expect(await page.locator('#step-11-hostname button.run').innerText()).toBe('Run again');
    // And what the page offers, the server does: Run again on the host name succeeds.
    await runStep(page, '11-hostname');

    // "Mount /sys" is what it is: its filesystem is shown, not offered for editing.
    const sys = page.locator('#step-17-mount-sys');
    expect(await sys.locator('.fixed code').innerText()).toBe('sys');
    expect(await sys.locator('select, input').count()).toBe(0);

    await page.locator('.topbar .run-all').click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 90_000 }).toBe('20 of 20 steps');
    await expect.poll(() => page.getByTestId('life').innerText()).toBe('Shell running');
    // After execve() the helper's code is gone: only what the host does to the container's
    // groups can be done again (create them, write cgroup.procs), and only that offers it.
    expect(await stepsWithRun(page)).toEqual(ids.filter((id) => /^(03-cgroup-create|0[4-9]-join-|10-join-)/.test(id)));
    await runStep(page, '07-join-memory');
  }, 150_000);

  test('the peek tab says which namespaces its shell joined, and whose /proc it sees', async () => {
    await page.getByRole('button', { name: 'Peek inside' }).click();
    await expect.poll(() => screen(page, 1), { timeout: 10_000 }).toContain('peek into');
    const about = page.getByTestId('peek-about');
    const text = await about.innerText();
    expect(text).toMatch(/Joined the container’s own namespaces: [a-z, ]*\bmnt\b/);
    expect(text).toMatch(/\bpid\b/);
    expect(text).toContain('cgroups: not joined');
    expect(text).toContain("/proc: the container’s own");
    // It sits above the peek shell, not over it.
    const [a, s] = await Promise.all([about.boundingBox(), page.locator('#panel-peek .xterm-screen').boundingBox()]);
    expect(a!.y + a!.height).toBeLessThanOrEqual(s!.y + 0.5);
    await page.screenshot({ path: join(SHOTS, 'peek-1280.png') });
    await page.getByRole('button', { name: 'Close the peek shell' }).click();
    await expect.poll(() => page.getByRole('tab', { name: /Peek/ }).count()).toBe(0);
  });

  test('a command chip types its command into the shell, without Enter, and focuses it', async () => {
    const chip = page.locator('#step-20-exec .cmd-type[data-command="cat /proc/self/cgroup"]');
    await chip.scrollIntoViewIfNeeded();
    expect(await chip.getAttribute('aria-label')).toBe('Type “cat /proc/self/cgroup” into the container’s shell (without Enter)');
    // Keyboard reachable: it takes the focus like any button, and Enter on it clicks it.
    await chip.focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await screen(page)).split('\n').at(-1)).toMatch(/cat \/proc\/self\/cgroup$/);
    // Typed, not run: no cgroup line came back, and the terminal has the focus for Enter.
    expect(await screen(page)).not.toMatch(/^\d+:[a-z_,]*:\//m);
    expect(await page.evaluate(() => document.activeElement?.closest('#panel-main') !== null)).toBe(true);
    await page.locator('#step-20-exec .body').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'chips-1280.png') });
    // The copy button beside it copies the same words.
    await page.locator('#step-20-exec .cmd-copy[data-copy="cat /proc/self/cgroup"]').click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('cat /proc/self/cgroup');
    // Leave an empty command line.
    await page.locator('#panel-main .xterm').click();
    await page.keyboard.press('Control+U');
  });

  test('a reload comes back to the same step, with the live graphs of the last minute', async () => {
    await page.locator('#step-07-join-memory').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await expect.poll(() => stepAtTop(page)).toBe('07-join-memory');
    await expect.poll(() => page.evaluate(() => sessionStorage.getItem('stepbox.place.book'))).toBe('07-join-memory');
    // A few seconds of samples to come back to.
    await expect.poll(() => page.locator('.live').getAttribute('data-samples'), { timeout: 15_000 }).toMatch(/^([6-9]|\d\d+)$/);
    const before = Number(await page.locator('.live').getAttribute('data-samples'));
    await page.reload();
    await page.locator('.live').waitFor();
    // Seeded from the welcome: more than a fresh page could have gathered in its first second.
    expect(Number(await page.locator('.live').getAttribute('data-samples'))).toBeGreaterThanOrEqual(Math.min(before, 60) - 1);
    await expect.poll(() => stepAtTop(page)).toBe('07-join-memory');
  });

  test("after the shell exits, one message with its code, and every part of the page agrees", async () => {
    await page.locator('#panel-main .xterm').click();
    await page.keyboard.type('exit 3\n');
    const ended = page.getByTestId('ended');
    await ended.waitFor({ timeout: 10_000 });
    expect(await ended.innerText()).toContain('The shell exited (code 3). Restart, or go back to a step.');
    expect(await page.getByRole('status').filter({ hasText: 'exited' }).count()).toBe(1);

    // Nothing covers the terminal's text: the message is above the terminal's rows, not on them.
    const box = (await ended.boundingBox())!;
    const rows = await page.$$eval('#panel-main .xterm-rows > div', (divs) =>
      divs.filter((d) => d.textContent!.trim() !== '').map((d) => ({ top: d.getBoundingClientRect().top, bottom: d.getBoundingClientRect().bottom })),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.bottom <= box.y + 0.5 || r.top >= box.y + box.height - 0.5, 'a terminal line is under the exit message').toBe(true);

    // Typing no longer reaches anything that could echo it.
    const shown = await screen(page);
    await page.locator('#panel-main .xterm').click();
    await page.keyboard.type('nobody-reads-this');
    await page.waitForTimeout(500);
    expect(await screen(page)).toBe(shown);

    // The panel, the top bar and the steps tell the same story.
    expect(await page.getByTestId('panel-life').innerText()).toBe('Exited (code 3)');
    expect(await page.getByTestId('life').innerText()).toBe('Exited (code 3)');
    expect(await page.locator('.diagram .pids').innerText()).toBe('Its process has exited (code 3)');
    expect(await page.locator('.kernel').innerText()).not.toContain('No container process yet');
    // What was built is still shown, as the kernel reported it last, and said to be that.
    expect(await page.locator('.diagram .part.lit').count()).toBe(3);
    expect(await page.locator('.kernel .kept').innerText()).toBe('Below: what the kernel reported last, while the process lived.');
    expect(await stepsWithRun(page)).toEqual([]);
    expect(await page.locator('article[data-step-id] .badge.ok').count()).toBe(20);
    await page.screenshot({ path: join(SHOTS, 'exited-1280.png') });

    // The same sentence in Chinese.
    await page.getByRole('button', { name: '中文' }).click();
    expect(await ended.innerText()).toContain('shell 已退出（退出码 3）。可以重新开始，或回到某一步。');
    await page.getByRole('button', { name: 'EN' }).click();

    // On a phone the message is in the terminal view, above the terminal too.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('tab', { name: 'Terminal' }).click();
    const phoneBox = (await ended.boundingBox())!;
    const screenBox = (await page.locator('#panel-main .xterm-screen').boundingBox())!;
    expect(phoneBox.y + phoneBox.height).toBeLessThanOrEqual(screenBox.y + 0.5);
    await page.screenshot({ path: join(SHOTS, 'exited-phone.png') });
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  test('Restart from the message builds a clean container and goes back to step 1', async () => {
    await page.locator('#step-18-mount-tmp').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.getByTestId('ended').getByRole('button', { name: 'Restart' }).click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent()).toBe('0 of 20 steps');
    await expect.poll(() => page.getByTestId('life').innerText()).toBe('No container yet');
    expect(await page.getByTestId('ended').count()).toBe(0);
    await expect.poll(() => stepAtTop(page)).toBe('01-clone');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('title-01-clone');
  });

  test('a cgroup limit keeps its controller and a freezer its state: freezing cannot be edited into another step', async () => {
    await page.goto(`${lab.origin}/#/cg-freezer`);
    const freeze = page.locator('#step-10-freeze');
    await freeze.waitFor();
    expect(await freeze.locator('.fixed code').allInnerTexts()).toEqual(['freezer', 'FROZEN']);
    expect(await freeze.locator('select').count()).toBe(0);
  });
});
