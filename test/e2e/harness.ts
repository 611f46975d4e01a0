// What the browser tests share: build the page as it is in the tree, start `stepbox serve`
// on a port the kernel picks, launch Debian's Chromium, and read a terminal's text.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { ROOT, startServer, stopServer } from '../support/served.ts';

export const SHOTS = join(ROOT, 'docs/screenshots');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/**
 * Test the page as it is in the tree, not a stale build, and as `npm start` builds it: vitest
 * sets NODE_ENV=test, which vite keeps, and Svelte would then compile its development mode,
 * with checks and traces that make every update slower than the page students get.
 */
export function buildPage(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  mkdirSync(SHOTS, { recursive: true });
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** The text of a terminal (0: container, 1: peek), through the page's read-only test hook. */
export function screen(page: Page, channel = 0): Promise<string> {
  // The hook's type lives in the page's sources; here it is only a function on window.
  return page.evaluate((c) => (window as unknown as { __stepbox?: { screen(c: number): string } }).__stepbox?.screen(c) ?? '', channel);
}

/** The server and the browser one test file shares: started before its tests, stopped after. */
export interface BrowserLab {
  server: ChildProcess;
  /** The link `stepbox serve` printed, token included. */
  url: string;
  origin: string;
  browser: Browser;
}

export function useBrowserLab(grace?: number, args: string[] = []): BrowserLab {
  const lab = {} as BrowserLab;
  beforeAll(async () => {
    buildPage();
    ({ proc: lab.server, url: lab.url } = await startServer({ grace, args }));
    lab.origin = new URL(lab.url).origin;
    lab.browser = await launchBrowser();
  }, 90_000);
  afterAll(async () => {
    await lab.browser?.close();
    if (lab.server) await stopServer(lab.server);
  }, 30_000);
  return lab;
}

/** A fresh browser context with the lab's page open at its link, its script errors logged. */
/** One page for a describe block: opened before its tests, its context closed after. */
export function useLabPage(lab: BrowserLab, options: BrowserContextOptions): () => Page {
  let context: BrowserContext | undefined;
  let page: Page;
  beforeAll(async () => {
    ({ context, page } = await openLabPage(lab, options));
  });
  afterAll(async () => {
    await context?.close();
  });
  return () => page;
}

export async function openLabPage(lab: BrowserLab, options: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page }> {
  const context = await lab.browser.newContext(options);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(lab.url);
  await page.locator('article[data-step-id]').first().waitFor();
  return { context, page };
}
