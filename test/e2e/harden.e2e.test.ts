// The harden lesson in the browser: the page shows what the container's process may still
// do, read from /proc/<pid>/status after each step, and the shell at the end cannot climb
// out of its chroot jail any more.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { SHOTS, useLabPage, screen, useBrowserLab } from './harness.ts';

const lab = useBrowserLab();

describe('the harden lesson', () => {
  const current = useLabPage(lab, { viewport: { width: 1280, height: 900 }, colorScheme: 'light', locale: 'en-US' });
  let page: Page;
  beforeAll(() => {
    page = current();
  });

  test('shows capabilities, no_new_privs and seccomp from the kernel, and the jail holds', async () => {
    await page.goto(`${lab.origin}/#/harden`);
    await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 10_000 }).toBe('0 of 12 steps');
    await page.locator('.topbar .run-all').click();
    await expect.poll(() => page.locator('.topbar .progress-text').textContent(), { timeout: 60_000 }).toBe('12 of 12 steps');
    const section = page.locator('details.section', { hasText: 'What it may do' });
    // The panel opens the section a step changed by itself: open it only if it is closed.
    if ((await section.getAttribute('open')) === null) await section.locator('summary').click();
    await expect.poll(() => section.innerText()).toMatch(/KILL\s+NET_BIND_SERVICE\s+AUDIT_WRITE/);
    const text = await section.innerText();
    expect(text).toMatch(/3 left/);
    expect(text).toMatch(/NoNewPrivs\s+1/);
    expect(text).toMatch(/Seccomp\s+2/);
    expect(text).toMatch(/RLIMIT_NOFILE\s+256 \/ 256/);
    await page.locator('.xterm').first().click();
    await page.keyboard.type('breakout\n');
    await expect.poll(async () => screen(page), { timeout: 10_000 }).toMatch(/no first move and no way out/);
    await section.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'harden.png') });
  }, 90_000);

  test('the caps step offers Docker\'s, runc\'s or no capabilities, the filter its calls, the limit its values', async () => {
    const caps = page.locator('article[data-step-id="08-caps"]');
    await caps.scrollIntoViewIfNeeded();
    await expect.poll(() => caps.locator('.choices').innerText()).toMatch(/docker[\s\S]*runc[\s\S]*none/);
    const seccomp = page.locator('article[data-step-id="11-seccomp"]');
    await expect.poll(() => seccomp.locator('fieldset.calls input[type=checkbox]').count()).toBe(24);
    const rlimit = page.locator('article[data-step-id="09-rlimit"]');
    await expect.poll(() => rlimit.locator('input[type=text]').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value))).toEqual(['256', '256']);
  });
});
