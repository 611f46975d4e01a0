// The live CPU and memory graphs in a browser, against the real server and kernel: the
// cpu lesson's busy loop is held at its 20% quota, and the memory lesson's hog is killed
// by the OOM killer, which the page announces. What is asserted is what the page says in
// text (the graphs' text alternative), which is the same sample the canvas draws.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { SHOTS, screen, useLabPage, useBrowserLab } from './harness.ts';

const lab = useBrowserLab();

const MiB = 1024 * 1024;

/** Open a lesson by its link and build the whole container with "Run all". */
async function buildLesson(page: Page, lesson: string, steps: number): Promise<void> {
  await page.goto(`${lab.origin}/#/${lesson}`);
  await expect.poll(() => page.locator('article[data-step-id]').count()).toBe(steps);
  await page.locator('.topbar .run-all').click();
  await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 60_000 }).toBe(`${steps} of ${steps} steps`);
}

async function shell(page: Page, line: string): Promise<void> {
  await page.locator('.xterm').first().click();
  await page.keyboard.type(`${line}\n`);
}

/** The newest value the page shows for a graph, as a number (data-value carries it unformatted). */
async function now(page: Page, metric: 'cpu' | 'memory'): Promise<number | null> {
  const v = await page.locator(`[data-metric="${metric}"] .now`).getAttribute('data-value', { timeout: 1000 }).catch(() => null);
  return v === null || v === '' ? null : Number(v);
}

/** Put a step's cell at the top of the notebook, for the picture. */
async function showStep(page: Page, id: string): Promise<void> {
  await page.evaluate((sel) => document.querySelector(sel)!.scrollIntoView({ block: 'start' }), `#step-${id}`);
  await page.waitForTimeout(200);
}

describe('live graphs', () => {
  const current = useLabPage(lab, { viewport: { width: 1280, height: 860 }, colorScheme: 'light', locale: 'en-US' });
  let page: Page;
  beforeAll(() => {
    page = current();
  });

  test('a busy loop in the cpu lesson is held at its 20% quota', async () => {
    await buildLesson(page, 'cg-cpu', 9);
    const cpu = page.locator('[data-metric="cpu"]');
    await cpu.waitFor({ timeout: 10_000 });
    expect(await cpu.locator('.limit').getAttribute('data-value')).toBe('20');
    // An idle shell uses next to nothing.
    await expect.poll(() => now(page, 'cpu'), { timeout: 10_000 }).not.toBeNull();
    expect(await now(page, 'cpu')).toBeLessThan(5);

    await shell(page, 'while :; do :; done &');
    // Unthrottled, the loop would take a whole CPU (100%); the quota holds it near 20%.
    await expect.poll(() => now(page, 'cpu'), { timeout: 20_000 }).toBeGreaterThan(14);
    const held: number[] = [];
    for (let i = 0; i < 12; i++) {
      await page.waitForTimeout(1000);
      held.push((await now(page, 'cpu'))!);
    }
    for (const p of held) expect(p, `CPU readings: ${held.join(', ')}`).toBeGreaterThan(14);
    for (const p of held) expect(p, `CPU readings: ${held.join(', ')}`).toBeLessThan(26);
    // The text alternative says the same as the picture.
    expect(await cpu.getAttribute('aria-label')).toMatch(/now \d+(\.\d)?% of one CPU, at most \d+(\.\d)?%; quota 20%/);
    await showStep(page, '09-exec');
    await page.screenshot({ path: join(SHOTS, 'live-cpu.png') });
  }, 120_000);

  test('the memory lesson: 20 MiB fits under 32 MiB, then the OOM killer, announced', async () => {
    await buildLesson(page, 'cg-memory', 10);
    const memory = page.locator('[data-metric="memory"]');
    await memory.waitFor({ timeout: 10_000 });
    expect(Number(await memory.locator('.limit').getAttribute('data-value'))).toBe(32 * MiB);
    expect(await page.locator('[data-metric="cpu"]').count()).toBe(0);
    expect(await page.locator('.oom').count()).toBe(0);
    await page.waitForTimeout(3000);

    // tail keeps the whole of a line-less input: 20 MiB held for three seconds, then freed.
    await shell(page, '(head -c 20m /dev/zero; sleep 3) | tail | wc -c');
    await expect.poll(() => now(page, 'memory'), { timeout: 10_000 }).toBeGreaterThan(18 * MiB);
    await expect.poll(async () => (await screen(page)).split('\n').map((l) => l.trim()), { timeout: 15_000 }).toContain('20971520');
    expect(await page.locator('.oom').count()).toBe(0);
    await page.waitForTimeout(3000);

    await shell(page, 'tail /dev/zero');
    const notice = page.locator('.oom');
    await notice.waitFor({ timeout: 15_000 });
    expect(await notice.innerText()).toContain('OOM: a process was killed in the container');
    expect(await notice.getAttribute('data-kills')).toBe('1');
    // It is in a live region, so a screen reader says it too.
    expect(await page.locator('.oom-live').getAttribute('role')).toBe('status');
    await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(/Killed/);
    expect(await now(page, 'memory')).toBeLessThanOrEqual(32 * MiB);
    // tail was killed within a second, between two samples; the graph still shows it reached the limit.
    expect(await memory.getAttribute('aria-label')).toMatch(/at most 3[0-2](\.\d)? MiB; limit 32 MiB/);
    // The kernel panel brings the notice into view by itself.
    await expect
      .poll(async () => {
        const [box, panel] = [await notice.boundingBox(), await page.locator('.kernel-scroll').boundingBox()];
        return box !== null && panel !== null && box.y >= panel.y - 1 && box.y + box.height <= panel.y + panel.height + 1;
      })
      .toBe(true);
    await page.waitForTimeout(4000);
    await showStep(page, '10-exec');
    await page.screenshot({ path: join(SHOTS, 'live-memory.png') });

    // The same panel in the dark theme and in Chinese.
    await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
    await page.getByRole('button', { name: '中文' }).click();
    await expect.poll(() => page.locator('.oom strong').innerText()).toBe('OOM：容器里有一个进程被杀掉了');
    await showStep(page, '10-exec');
    await page.waitForTimeout(1500);
    await page.screenshot({ path: join(SHOTS, 'live-memory-dark-zh.png') });
  }, 120_000);
});
