// What the browser tests share: build the page as it is in the tree, start `stepbox serve`
// on a port the kernel picks, launch Debian's Chromium, and read a terminal's text.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHOTS = join(ROOT, 'docs/screenshots');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/**
 * Start `stepbox serve` on a port the kernel picks, and read the address it prints.
 * `grace`: seconds a closed tab's container waits to be re-attached.
 */
export function startServer(grace = 5): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['lab-server/bin/stepbox.mjs', 'serve', '--port', '0', '--grace', String(grace)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`stepbox serve printed no address in 30 s:\n${out}${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /stepbox is ready: (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ proc, url: m[1]! });
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`stepbox serve exited with ${code}:\n${out}${err}`));
    });
  });
}

/** SIGTERM, as an operator would stop it, and wait until it has reaped its sessions and exited. */
export async function stopServer(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
  proc.kill('SIGTERM');
  const late = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(late);
}

/** Test the page as it is in the tree, not a stale build. */
export function buildPage(): void {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
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

export function useBrowserLab(grace?: number): BrowserLab {
  const lab = {} as BrowserLab;
  beforeAll(async () => {
    buildPage();
    ({ proc: lab.server, url: lab.url } = await startServer(grace));
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
export async function openLabPage(lab: BrowserLab, options: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page }> {
  const context = await lab.browser.newContext(options);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(lab.url);
  await page.locator('article[data-step-id]').first().waitFor();
  return { context, page };
}
