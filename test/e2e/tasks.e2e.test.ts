// Lesson tasks in a browser, against the real server and kernel: the UTS lesson's shell
// step lists what to try, the student renames the container in the xterm, and the page
// shows what the kernel says (not what was typed). Also the lesson picker, and the hint
// that opens by itself when a task has stayed open for a while (on a fake clock).
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { SHOTS, useLabPage, useBrowserLab } from './harness.ts';

const lab = useBrowserLab(30);

const task = (page: Page, id: string): Locator => page.locator(`#step-02-exec li.task[data-task-id="${id}"]`);
const stateOf = (page: Page, id: string) => task(page, id).getAttribute('data-state');

/** Run one step with its button and wait for the kernel's answer. */
async function runStep(page: Page, id: string): Promise<void> {
  const cell = page.locator(`#step-${id}`);
  await cell.locator('button.run').click();
  await cell.locator('.badge.ok, .badge.failed, .badge.refused').waitFor({ timeout: 30_000 });
  expect(await cell.locator('.badge.ok').count(), `step ${id} did not succeed:\n${await cell.innerText()}`).toBe(1);
}

/** Type a line into the container's shell. */
async function shell(page: Page, line: string): Promise<void> {
  await page.locator('.xterm').first().click();
  await page.keyboard.type(`${line}\n`);
}

describe('tasks of the UTS lesson', () => {
  const current = useLabPage(lab, { viewport: { width: 1280, height: 800 }, colorScheme: 'light', locale: 'en-US' });
  let page: Page;
  beforeAll(() => {
    page = current();
  });

  test('a link to the lesson opens it, with its tasks listed before they can be checked', async () => {
    await page.goto(`${lab.origin}/#/ns-uts`);
    await expect.poll(() => page.locator('article[data-step-id]').count()).toBe(2);
    await expect.poll(() => page.locator('.topbar .progress-text').textContent()).toBe('0 of 2 steps');
    expect(await page.locator('#step-02-exec .tasks h3').innerText()).toMatch(/try it/i);
    expect(await page.locator('#step-02-exec li.task').count()).toBe(2);
    expect([await stateOf(page, 'rename'), await stateOf(page, 'domain')]).toEqual(['open', 'open']);
    expect(await page.locator('#step-02-exec .tasks').getAttribute('data-watched')).toBe('false');
    expect(await page.locator('#step-02-exec .tasks-badge').innerText()).toBe('0/2 tasks');
    // The first step has no tasks, and no empty "Try it" either.
    expect(await page.locator('#step-01-clone .tasks').count()).toBe(0);
  });

  test('after the shell step, the server checks them: nothing is done yet', async () => {
    await runStep(page, '01-clone');
    await runStep(page, '02-exec');
    await expect.poll(() => page.locator('#step-02-exec .tasks').getAttribute('data-watched')).toBe('true');
    expect([await stateOf(page, 'rename'), await stateOf(page, 'domain')]).toEqual(['open', 'open']);
    expect(await page.locator('#step-02-exec .tasks-badge').innerText()).toBe('0/2 tasks');
  }, 60_000);

  test('renaming the container in the terminal turns the task done, and says so', async () => {
    await shell(page, 'hostname box1');
    await expect.poll(() => stateOf(page, 'rename'), { timeout: 8_000 }).toBe('done');
    expect(await page.locator('#step-02-exec .tasks-badge').innerText()).toBe('1/2 tasks');
    // Screen readers hear it once, from a polite live region.
    await expect.poll(() => page.locator('[data-testid="task-news"]').textContent()).toContain('Task done: Give the container the host name box1');
    await shell(page, 'echo lab > /proc/sys/kernel/domainname');
    await expect.poll(() => stateOf(page, 'domain'), { timeout: 8_000 }).toBe('done');
    expect(await page.locator('#step-02-exec .tasks-badge').innerText()).toBe('2/2 tasks');
  });

  test('the Hint button shows the hint, and hides it again', async () => {
    const item = task(page, 'rename');
    const button = item.locator('button.hint-toggle');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await item.locator('.hint').isVisible()).toBe(false);
    await button.click();
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    expect(await item.locator('.hint').innerText()).toContain('hostname NAME');

    await page.evaluate(() => document.querySelector('#step-02-exec .tasks')!.scrollIntoView({ block: 'center' }));
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(SHOTS, 'tasks.png') });

    await button.click();
    expect(await item.locator('.hint').isVisible()).toBe(false);
  });

  test('the picker lists both lessons, and switching to the book shows its 20 steps', async () => {
    const picker = page.locator('.topbar .lesson-pick select');
    const options = await picker.locator('option').evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
    // Every lesson of lessons/, in sections: the chapter, namespaces, cgroups, demonstrations.
    const sections = await picker.locator('optgroup').evaluateAll((gs) => gs.map((g) => [(g as HTMLOptGroupElement).label, [...g.querySelectorAll('option')].map((o) => o.value)]));
    expect(sections.map(([label]) => label)).toEqual(['The chapter', 'Namespaces, one at a time', 'Cgroup subsystems, one at a time', 'Demonstrations']);
    expect(sections[0]![1]).toEqual(['book']);
    expect(sections[1]![1]).toEqual(expect.arrayContaining(['ns-uts', 'ns-pid', 'ns-net', 'ns-time']));
    expect(sections[2]![1]).toEqual(expect.arrayContaining(['cg-cpu', 'cg-memory', 'cg-blkio']));
    expect(sections[3]![1]).toContain('breakout');
    expect(sections.flatMap(([, ids]) => ids)).toEqual(options.map(([id]) => id));
    expect(options).toContainEqual(['book', expect.stringMatching(/\S/)]);
    expect(options).toContainEqual(['ns-uts', 'UTS namespace: a host name of its own']);
    expect(await picker.inputValue()).toBe('ns-uts');

    await picker.selectOption('book');
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/book');
    await expect.poll(() => page.locator('article[data-step-id]').count()).toBe(20);
    await expect.poll(() => page.locator('.topbar .progress-text').textContent()).toBe('0 of 20 steps');
    // The book's one task is on its last step: run breakout in the finished container.
    expect(await page.locator('.tasks').count()).toBe(1);
    expect(await page.locator('#step-20-exec .tasks').count()).toBe(1);
  });

  test('switching back within the grace period finds the same container, its tasks checked again', async () => {
    await page.locator('.topbar .lesson-pick select').selectOption('ns-uts');
    await expect.poll(() => page.locator('.topbar .progress-text').textContent()).toBe('2 of 2 steps');
    await expect.poll(() => page.locator('#step-02-exec .tasks').getAttribute('data-watched')).toBe('true');
    await expect.poll(() => stateOf(page, 'rename'), { timeout: 8_000 }).toBe('done');
  });

  test('the page shows the current truth: renaming it back opens the task again', async () => {
    await shell(page, 'hostname other');
    await expect.poll(() => stateOf(page, 'rename'), { timeout: 8_000 }).toBe('open');
    expect(await page.locator('[data-testid="task-news"]').textContent()).toContain('no longer holds');
    await shell(page, 'hostname box1');
    await expect.poll(() => stateOf(page, 'rename'), { timeout: 8_000 }).toBe('done');
  });

  test('in Chinese and the dark theme, the tasks follow', async () => {
    await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    await page.getByRole('button', { name: '中文' }).click();
    expect(await page.locator('#step-02-exec .tasks h3').innerText()).toBe('动手试试');
    expect(await task(page, 'rename').locator('.title').innerText()).toContain('box1');
    expect(await page.locator('#step-02-exec .tasks-badge').innerText()).toBe('任务 2/2');
    const options = await page.locator('.topbar .lesson-pick option').allTextContents();
    expect(options).toContain('UTS 命名空间：自己的主机名');
    await task(page, 'domain').locator('button.hint-toggle').click();
    await page.evaluate(() => document.querySelector('#step-02-exec .tasks')!.scrollIntoView({ block: 'center' }));
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(SHOTS, 'tasks-dark-zh.png') });
  });

  test('Restart forgets them: a new container has done nothing yet', async () => {
    const restart = page.locator('.topbar .restart');
    await restart.click();
    await restart.click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent()).toBe('已完成 0 / 2 步');
    expect([await stateOf(page, 'rename'), await stateOf(page, 'domain')]).toEqual(['open', 'open']);
    expect(await page.locator('#step-02-exec .tasks').getAttribute('data-watched')).toBe('false');
  });
});

describe('a task left open', () => {
  test('shows its hint by itself after 45 seconds', async () => {
    const context = await lab.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    try {
      // A fake clock in the page: 45 s pass in an instant, the kernel's checks still run for real.
      await context.clock.install();
      const page = await context.newPage();
      await page.goto(lab.url);
      await page.goto(`${lab.origin}/#/ns-uts`);
      // A fresh context loads the page and the lesson cold: on a busy machine that took
      // longer than a poll's default 5 s once.
      await expect.poll(() => page.locator('article[data-step-id]').count(), { timeout: 20_000 }).toBe(2);
      await page.locator('.topbar .run-all').click();
      await expect.poll(() => page.locator('#step-02-exec .tasks').getAttribute('data-watched'), { timeout: 30_000 }).toBe('true');
      await shell(page, 'echo lab > /proc/sys/kernel/domainname');
      await expect.poll(() => stateOf(page, 'domain'), { timeout: 30_000 }).toBe('done');
      const rename = task(page, 'rename');
      expect(await rename.getAttribute('data-state')).toBe('open');

      await page.clock.fastForward(30_000);
      expect(await rename.locator('.hint').isVisible()).toBe(false);
      await page.clock.fastForward(16_000);
      await expect.poll(() => rename.locator('.hint').isVisible()).toBe(true);
      expect(await rename.locator('button.hint-toggle').getAttribute('aria-expanded')).toBe('true');
      // A task that holds needs no help.
      expect(await task(page, 'domain').locator('.hint').isVisible()).toBe(false);
    } finally {
      await context.close();
    }
  }, 60_000);
});
