// The page for a student who uses a keyboard or a screen reader: axe-core's WCAG 2.1 A/AA
// and best-practice rules find nothing, in both themes and both languages, on a fresh
// lesson, on the whole book built with every panel open, and in each of the phone's views;
// and the whole book runs from the keyboard alone, every stop on the way showing where the
// focus is, down to the container's shell.
import { createRequire } from 'node:module';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { screen, useBrowserLab } from './harness.ts';

const lab = useBrowserLab();
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const RULES = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/** axe's findings on the page as it is now: rule, its help, and where (at most 3 places each). */
async function violations(page: Page, skip: string[] = []): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  return page.evaluate(
    async ([tags, off]) => {
      const axe = (window as unknown as { axe: { run(c: Document, o: object): Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
      const rules = Object.fromEntries(off.map((id) => [id, { enabled: false }]));
      const r = await axe.run(document, { runOnly: tags, rules });
      return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}×: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')})`);
    },
    [RULES, skip] as const,
  );
}

/** A page in a context of its own; axe is injected as a script, which the lab's CSP would refuse. */
async function open(options: BrowserContextOptions, lang: 'en' | 'zh' = 'en') {
  const context = await lab.browser.newContext({ bypassCSP: true, ...options });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  if (lang === 'zh') await context.addInitScript(() => localStorage.setItem('stepbox.lang', 'zh'));
  await page.goto(lab.url);
  await page.locator('article[data-step-id]').first().waitFor();
  // The terminal is on the page too (xterm loads after the lab mounts).
  await page.locator('.xterm').first().waitFor({ state: 'attached' });
  return { context, page };
}

const progress = (page: Page) => page.locator('.progress').evaluate((p) => [Number(p.getAttribute('aria-valuenow')), Number(p.getAttribute('aria-valuemax'))]);

async function runAll(page: Page) {
  await page.locator('.topbar .run-all').click();
  await page.waitForFunction(() => {
    const p = document.querySelector('.progress');
    return p !== null && p.getAttribute('aria-valuenow') === p.getAttribute('aria-valuemax');
  }, null, { timeout: 60_000 });
}

describe('the page, read by axe-core', () => {
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const lang of ['en', 'zh'] as const) {
      test(`${colorScheme}, ${lang}: a fresh book, then the whole book built with every section open`, async () => {
        const { context, page } = await open({ viewport: { width: 1280, height: 720 }, colorScheme, locale: lang === 'zh' ? 'zh-CN' : 'en-US' }, lang);
        try {
          expect(await violations(page), 'fresh').toEqual([]);
          await runAll(page);
          await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
          expect(await violations(page), 'built').toEqual([]);
        } finally {
          await context.close();
        }
      }, 120_000);
    }
  }

  test('a phone, in each of its three views', async () => {
    const { context, page } = await open({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'light', locale: 'en-US' });
    try {
      // The Kernel and Terminal tabs hide the steps, and with them the main landmark and
      // the lesson's h1, as the ARIA tabs pattern hides every panel but the chosen one.
      for (const [name, skip] of [['Steps', []], ['Kernel', ['landmark-one-main', 'page-has-heading-one']], ['Terminal', ['landmark-one-main', 'page-has-heading-one']]] as const) {
        await page.getByRole('tab', { name }).tap();
        expect(await violations(page, [...skip]), name).toEqual([]);
      }
    } finally {
      await context.close();
    }
  }, 120_000);
});

describe('the keyboard alone', () => {
  test('reaches step 1 in order, runs the whole book, then types into the shell; the focus always shows', async () => {
    const { context, page } = await open({ viewport: { width: 1280, height: 720 }, colorScheme: 'light', locale: 'en-US' });
    try {
      expect(await page.locator('[tabindex]').evaluateAll((els) => els.filter((e) => Number(e.getAttribute('tabindex')) > 0).length), 'no positive tabindex reorders the page').toBe(0);

      // From the top: every stop shows its focus, and stops come in the order they are on the page.
      const stops: { label: string; shows: boolean; after: boolean }[] = [];
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press('Tab');
        const stop = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          const s = getComputedStyle(el);
          const prev = (window as unknown as { __lastStop?: Element }).__lastStop;
          (window as unknown as { __lastStop?: Element }).__lastStop = el;
          return {
            label: `${el.tagName.toLowerCase()} ${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40) ?? ''}`,
            shows: (s.outlineStyle !== 'none' && s.outlineWidth !== '0px') || s.boxShadow !== 'none',
            after: !prev || prev === el || Boolean(prev.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) || prev.contains(el),
            run: el.closest('[data-step-id]')?.getAttribute('data-step-id') === '01-clone' && el.classList.contains('run'),
          };
        });
        stops.push(stop);
        expect(stop.shows, `focus is not visible on ${stop.label}`).toBe(true);
        expect(stop.after, `the focus went back up the page to ${stop.label}`).toBe(true);
        if (stop.run) break;
      }
      expect(stops.at(-1)?.label, 'Tab reaches step 1\'s Run button').toMatch(/^button/);
      await page.keyboard.press('Enter');
      await expect.poll(async () => (await progress(page))[0], { timeout: 20_000 }).toBe(1);

      // Shift+Enter runs the step the focus moved on to, step after step, to the end.
      const [, total] = await progress(page);
      for (let done = 1; done < total!; done++) {
        await page.keyboard.press('Shift+Enter');
        await expect.poll(async () => (await progress(page))[0], { timeout: 20_000 }).toBe(done + 1);
      }

      // On to the shell by Tab alone; what is typed there reaches the container.
      let inTerminal = false;
      for (let i = 0; i < 200 && !inTerminal; i++) {
        await page.keyboard.press('Tab');
        inTerminal = await page.evaluate(() => document.activeElement?.closest('.xterm') !== null);
      }
      expect(inTerminal, 'Tab reaches the terminal').toBe(true);
      await page.keyboard.type('echo kb-$((6*7))\n');
      await expect.poll(() => screen(page), { timeout: 10_000 }).toMatch(/^kb-42$/m);
    } finally {
      await context.close();
    }
  }, 180_000);
});
