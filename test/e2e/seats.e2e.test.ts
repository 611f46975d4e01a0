// The page of a seated lab (stepbox serve --seats): it says where the student is, plays the
// book inside the seat, and says why a lesson that needs the machine's own root is not
// offered there.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { SHOTS, useLabPage, screen, useBrowserLab } from './harness.ts';

const lab = useBrowserLab(5, ['--seats']);

describe('a seated lab in the browser', () => {
  const current = useLabPage(lab, { viewport: { width: 1280, height: 860 }, colorScheme: 'light', locale: 'en-US' });
  let page: Page;
  beforeAll(() => {
    page = current();
  });

  test('says the student is in a seat, and the book plays to its end inside it', async () => {
    await expect.poll(() => page.locator('.intro .where').innerText()).toMatch(/^You are in seat-\d+, a sealed box of your own on a shared machine/);
    await page.locator('.topbar .run-all').click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 90_000 }).toBe('20 of 20 steps');
    await page.locator('.xterm').first().click();
    await page.keyboard.type('cat /proc/self/uid_map\n');
    // Container root is uid 100000 of the seat, as the lesson says: the page reads the same.
    await expect
      .poll(async () => (await screen(page)).split('\n').map((l) => l.trim().replace(/\s+/g, ' ')), { timeout: 10_000 })
      .toContain('0 100000 65536');
    await page.screenshot({ path: join(SHOTS, 'seat-book.png') });
  }, 120_000);

  test("a lesson that needs the machine's own root says why, at its top", async () => {
    await page.goto(`${lab.origin}/#/cg-blkio`);
    await expect.poll(() => page.locator('.intro .callout').first().innerText()).toMatch(/Not in a seat: the lesson attaches a loop disk/);
  });
});
