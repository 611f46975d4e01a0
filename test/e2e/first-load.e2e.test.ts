// The page's first load, cold (a new browser context: no cache, no storage), as a student
// opening the link sees it: something is painted before the script has run, the lesson
// list is on its way beside the script, and xterm.js (half the page's code) is fetched
// only after the lab is on screen. The times are printed for docs/performance.md; what is
// checked is the order of events, which holds on a slow machine as on a fast one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsoleMessage } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { ROOT } from '../support/served.ts';
import { useBrowserLab } from './harness.ts';

const lab = useBrowserLab();
const LOADS = 7;

interface Load {
  /** first-contentful-paint, ms from navigation start */
  fcp: number;
  /** when main.ts had replaced the placeholder with the lab */
  mounted: number;
  /** every resource the page fetched: its name, when it started and ended */
  resources: { name: string; start: number; end: number; bytes: number }[];
}

async function coldLoad(): Promise<{ load: Load; warnings: string[] }> {
  const context = await lab.browser.newContext({ viewport: { width: 1280, height: 720 }, locale: 'en-US' });
  const page = await context.newPage();
  const warnings: string[] = [];
  page.on('console', (m: ConsoleMessage) => m.type() !== 'log' && warnings.push(m.text()));
  try {
    await page.goto(lab.url);
    await page.locator('article[data-step-id]').first().waitFor();
    await page.waitForFunction(() => document.querySelector('.xterm') !== null);
    const load = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]!.startTime,
      mounted: performance.getEntriesByName('stepbox:mounted')[0]!.startTime,
      resources: performance.getEntriesByType('resource').map((e) => {
        const r = e as PerformanceResourceTiming;
        return { name: new URL(r.name).pathname, start: r.startTime, end: r.responseEnd, bytes: r.transferSize };
      }),
    }));
    return { load, warnings };
  } finally {
    await context.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('the first load', () => {
  test('paints before its script runs, preloads the lesson list, and fetches xterm after', async () => {
    const loads: Load[] = [];
    for (let i = 0; i < LOADS; i++) {
      const { load, warnings } = await coldLoad();
      // A preload the page then fetches differently would be fetched twice, and Chromium says so.
      expect(warnings, 'console').toEqual([]);
      loads.push(load);

      // The placeholder in index.html is content: the first paint does not wait for the lab's script.
      expect(load.fcp, 'first paint before the lab mounted').toBeLessThan(load.mounted);
      const list = load.resources.filter((r) => r.name.endsWith('/api/lessons'));
      expect(list, 'the lesson list is fetched once: the preload is what the page uses').toHaveLength(1);
      expect(list[0]!.start, 'the lesson list is requested before the script has run').toBeLessThan(load.mounted);
      const xterm = load.resources.filter((r) => /\/assets\/xterm-[^/]+\.js$/.test(r.name));
      expect(xterm, 'xterm.js is one file of its own').toHaveLength(1);
      expect(xterm[0]!.start, 'xterm.js is requested once the lab is on the page').toBeGreaterThan(load.mounted);
    }
    const first = loads[0]!.resources.filter((r) => r.start < loads[0]!.mounted && /\.(js|css)$/.test(r.name));
    const figures = {
      loads: LOADS,
      fcpMedianMs: Math.round(median(loads.map((l) => l.fcp))),
      fcpMaxMs: Math.round(Math.max(...loads.map((l) => l.fcp))),
      mountedMedianMs: Math.round(median(loads.map((l) => l.mounted))),
      scriptAndStyleBeforeMountBytes: first.reduce((n, r) => n + r.bytes, 0),
    };
    console.log('first load, cold:', JSON.stringify(figures));
    mkdirSync(join(ROOT, 'test/.artifacts'), { recursive: true });
    writeFileSync(join(ROOT, 'test/.artifacts/first-load.json'), `${JSON.stringify({ figures, loads }, null, 2)}\n`);
  }, 120_000);
});
