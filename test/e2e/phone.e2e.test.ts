// The page on a phone (390×844, touch): one part at a time behind three tabs (steps,
// kernel, terminal), nothing wider than the screen, a step run from the Steps tab, and the
// container's shell answering in the Terminal tab, which fills what the bars leave, and a
// reload that comes back to the step the student was reading.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { SHOTS, screen, useBrowserLab, useLabPage } from './harness.ts';

const lab = useBrowserLab();
const PHONE = { width: 390, height: 844 };

/** How much wider than the screen the page is: 0 when nothing sticks out. */
function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** Which of the three panels are on screen, by their ids. */
function shownPanels(page: Page): Promise<string[]> {
  return page.$$eval('[role="tabpanel"][id^="view-"]', (panels) =>
    panels.filter((p) => (p as HTMLElement).offsetParent !== null && p.getBoundingClientRect().height > 0).map((p) => p.id),
  );
}

/** The first step whose title is in sight below the bars: on a phone, in the Steps view's own scroll. */
function stepAtTop(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const view = document.querySelector('main')!.getBoundingClientRect();
    const edge = Math.max(document.querySelector('.topbar')!.getBoundingClientRect().bottom, view.top);
    const title = [...document.querySelectorAll<HTMLElement>('article[data-step-id] h2')].find((h) => h.getBoundingClientRect().top >= edge - 1);
    return title?.closest<HTMLElement>('article')?.dataset.stepId ?? null;
  });
}

describe('the book lesson on a phone', () => {
  const current = useLabPage(lab, { viewport: PHONE, isMobile: true, hasTouch: true, colorScheme: 'light', locale: 'en-US' });

  test('nothing is wider than the screen, in any view', async () => {
    const page = current();
    expect(await page.evaluate(() => document.documentElement.clientWidth)).toBe(PHONE.width);
    for (const name of ['Kernel', 'Terminal', 'Steps']) {
      await page.getByRole('tab', { name }).tap();
      expect(await overflow(page), `the ${name} view is wider than the screen`).toBe(0);
    }
    // The top bar's buttons are icons, but keep their names.
    for (const name of ['Run all', 'Restart', 'Switch to the dark theme', 'EN', '中文']) {
      const box = await page.getByRole('button', { name, exact: true }).boundingBox();
      expect(box, `${name} is not on the bar`).not.toBeNull();
      expect(box!.x + box!.width, `${name} falls off the bar`).toBeLessThanOrEqual(PHONE.width);
    }
  });

  test('the three tabs show one view each, by tap and by arrow keys', async () => {
    const page = current();
    const tabs = page.getByRole('tablist', { name: 'Part of the page' }).getByRole('tab');
    expect(await tabs.allInnerTexts()).toEqual(['Steps', 'Kernel', 'Terminal']);
    expect(await shownPanels(page)).toEqual(['view-steps']);

    await page.getByRole('tab', { name: 'Kernel' }).tap();
    expect(await shownPanels(page)).toEqual(['view-kernel']);
    expect(await page.getByRole('tab', { name: 'Kernel' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByRole('tab', { name: 'Steps' }).getAttribute('aria-selected')).toBe('false');

    await page.getByRole('tab', { name: 'Kernel' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await shownPanels(page)).toEqual(['view-terminal']);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('view-tab-terminal');
    await page.keyboard.press('ArrowRight');
    expect(await shownPanels(page)).toEqual(['view-steps']);
    await page.keyboard.press('End');
    expect(await shownPanels(page)).toEqual(['view-terminal']);
    await page.keyboard.press('Home');
    expect(await shownPanels(page)).toEqual(['view-steps']);
    expect(await page.getByRole('tabpanel').getAttribute('aria-labelledby')).toBe('view-tab-steps');
  });

  test('a step runs from the Steps tab, its calls kept inside the screen', async () => {
    const page = current();
    await page.getByRole('tab', { name: 'Steps' }).tap();
    const cell = page.locator('#step-01-clone');
    await cell.locator('button.run').tap();
    await cell.locator('.badge.ok').waitFor({ timeout: 30_000 });
    expect(await cell.locator('.calls .call').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.topbar .progress-short').textContent()).toBe('1/20');
    expect(await overflow(page)).toBe(0);
    // A call gets the cell's width: it scrolls on its line rather than folding into a column.
    const call = await cell.locator('.calls .call .text').first().boundingBox();
    expect(call!.width).toBeGreaterThan(250);

    await cell.locator('.calls').evaluate((el) => el.scrollIntoView({ block: 'end' }));
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SHOTS, 'phone-steps.png') });
  }, 60_000);

  test("the Terminal tab fills the screen and shows the shell's prompt", async () => {
    const page = current();
    await page.getByRole('button', { name: 'Run all', exact: true }).tap();
    await expect.poll(() => page.locator('.topbar .progress-short').textContent(), { timeout: 60_000 }).toBe('20/20');

    await page.getByRole('tab', { name: 'Terminal' }).tap();
    const term = page.locator('#view-terminal');
    const box = (await term.boundingBox())!;
    // From under the bars down to the bottom of the screen, the whole width.
    expect(box.width).toBe(PHONE.width);
    expect(box.y + box.height).toBeCloseTo(PHONE.height, 0);
    // xterm was fitted to that box once shown: its rows reach near the bottom, its columns the edge.
    await expect
      .poll(async () => {
        const s = (await page.locator('#view-terminal .xterm-screen').boundingBox())!;
        return s.width <= PHONE.width && s.y + s.height > PHONE.height - 60;
      })
      .toBe(true);

    const lastLine = async () => (await screen(page)).split('\n').filter((l) => l.trim()).at(-1)?.trim();
    // The shell's prompt ends in '#': root, inside the container.
    await expect.poll(lastLine, { timeout: 10_000 }).toMatch(/#$/);
    await page.locator('#view-terminal .xterm').tap();
    await page.keyboard.type('echo phone-$((6*7))\n');
    await expect.poll(async () => (await screen(page)).split('\n').map((l) => l.trim()), { timeout: 10_000 }).toContain('phone-42');
    await expect.poll(lastLine).toMatch(/#$/);
    expect(await overflow(page)).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'phone-terminal.png') });
  }, 90_000);

  test('a reload comes back to the step at the top of the Steps view, which scrolls on its own', async () => {
    const page = current();
    await page.getByRole('tab', { name: 'Steps' }).tap();
    await page.locator('#step-09-join-freezer').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await expect.poll(() => page.evaluate(() => sessionStorage.getItem('stepbox.place.book'))).toBe('09-join-freezer');
    await page.reload();
    await page.locator('article[data-step-id]').first().waitFor();
    await expect.poll(() => stepAtTop(page)).toBe('09-join-freezer');
    // The view scrolled inside itself; the page did not.
    expect(await page.evaluate(() => document.scrollingElement!.scrollTop)).toBe(0);
    expect(await page.evaluate(() => document.querySelector('main')!.scrollTop)).toBeGreaterThan(0);
  });

  test('in Chinese and the dark theme it still fits', async () => {
    const page = current();
    await page.getByRole('button', { name: '中文' }).tap();
    await page.getByRole('button', { name: '切换到深色主题' }).tap();
    expect(await page.getByRole('tablist', { name: '页面的部分' }).getByRole('tab').allInnerTexts()).toEqual(['步骤', '内核', '终端']);
    for (const name of ['步骤', '内核', '终端']) {
      await page.getByRole('tab', { name }).tap();
      expect(await overflow(page), `the ${name} view is wider than the screen`).toBe(0);
      // Each view scrolls inside itself: the page is never taller than the screen either.
      expect(await page.evaluate(() => document.documentElement.scrollHeight), `the ${name} view makes the page taller`).toBe(PHONE.height);
    }
  });
});

describe('the same page on a laptop', () => {
  const current = useLabPage(lab, { viewport: { width: 1280, height: 720 }, colorScheme: 'light', locale: 'en-US' });

  test('has no view tabs: the steps, the kernel and the terminal are all in sight', async () => {
    const page = current();
    expect(await page.getByRole('tablist', { name: 'Part of the page' }).count()).toBe(0);
    for (const part of ['main.notes', 'aside.side .kernel-scroll', 'aside.side .term']) expect(await page.locator(part).isVisible(), part).toBe(true);
    expect(await page.locator('.topbar .progress-text').isVisible()).toBe(true);
    expect(await page.locator('.topbar .run-all').innerText()).toBe('Run all');
  });
});
