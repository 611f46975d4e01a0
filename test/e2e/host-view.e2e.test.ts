// The Host tab in Debian's Chromium: before the clone it says there is no container yet;
// after the book's hostname step it shows the host's name next to the container's, read
// by the server from the kernel, and the kernel panel marks its host name section. The
// same tab works in the phone's layout, inside the Terminal view.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { SHOTS, useBrowserLab, useLabPage } from './harness.ts';

const lab = useBrowserLab();

/** Run the book's steps in order, up to and including `last`, by their Run buttons. */
async function runUpTo(page: Page, last: string): Promise<void> {
  const ids = await page.$$eval('article[data-step-id]', (cells) => cells.map((c) => (c as HTMLElement).dataset.stepId!));
  for (const id of ids.slice(0, ids.indexOf(last) + 1)) {
    const cell = page.locator(`#step-${id}`);
    await cell.locator('button.run').click();
    await page.waitForFunction((sel) => document.querySelector(sel)?.matches('.ok, .failed, .refused') ?? false, `#step-${id} .badge`, { timeout: 30_000 });
    expect(await cell.locator('.badge.ok').count(), `step ${id} did not succeed:\n${await cell.innerText()}`).toBe(1);
  }
}

describe('the Host tab at 1280×720', () => {
  const current = useLabPage(lab, { viewport: { width: 1280, height: 720 }, colorScheme: 'light', locale: 'en-US' });

  test('before the clone: the host alone, and a clear word that there is no container yet', async () => {
    const page = current();
    await page.getByRole('tab', { name: 'Host' }).click();
    await expect.poll(() => page.getByTestId('host-view-empty').isVisible()).toBe(true);
    expect(await page.getByTestId('host-view-empty').innerText()).toMatch(/No container yet/);
    expect(await page.getByTestId('hv-host-name').innerText()).toBe(hostname());
    expect(await page.getByTestId('hv-container-name').count()).toBe(0);
    await page.getByRole('tab', { name: /^Container/ }).click();
  });

  test('after the hostname step: both names, and the kernel panel marks its host name section', async () => {
    const page = current();
    await runUpTo(page, '11-hostname');
    const uts = page.locator('details[data-section="uts"]');
    // The panel opened the section the step changed, and tagged it.
    await expect.poll(() => uts.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(await uts.locator('.step-tag').count()).toBe(1);
    expect(await page.getByTestId('hostname-container').innerText()).toBe('box1');
    expect(await page.getByTestId('hostname-host').innerText()).toBe(hostname());

    await page.getByRole('tab', { name: 'Host' }).click();
    await expect.poll(() => page.getByTestId('hv-container-name').textContent(), { timeout: 5000 }).toBe('box1');
    expect(await page.getByTestId('hv-host-name').innerText()).toBe(hostname());
    expect(await page.getByTestId('host-view-empty').count()).toBe(0);
    // The container's first process, as the host lists it: its pid inside is 1.
    await expect.poll(() => page.getByTestId('hv-ps').locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('hv-ps').locator('tbody tr').first().locator('td').nth(1).innerText()).toBe('1');
    await page.screenshot({ path: join(SHOTS, 'host-view-1280.png') });

    // In Chinese, the same tab under its Chinese name, the same kernel facts.
    await page.getByRole('button', { name: '中文', exact: true }).click();
    await expect.poll(() => page.getByRole('tab', { name: '宿主机' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.getByTestId('host-view').innerText()).toContain('主机名');
    expect(await page.getByTestId('hv-container-name').innerText()).toBe('box1');
    await page.screenshot({ path: '/tmp/host-view-zh.png' });
    await page.getByRole('button', { name: 'EN', exact: true }).click();
  }, 120_000);
});

describe('the Host tab on a phone', () => {
  const current = useLabPage(lab, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'light', locale: 'en-US' });

  test('inside the Terminal view, both names', async () => {
    const page = current();
    await runUpTo(page, '11-hostname');
    await page.getByRole('tab', { name: 'Terminal' }).tap();
    await page.getByRole('tab', { name: 'Host' }).tap();
    await expect.poll(() => page.getByTestId('hv-container-name').textContent(), { timeout: 5000 }).toBe('box1');
    expect(await page.getByTestId('hv-host-name').innerText()).toBe(hostname());
    // Nothing sticks out of the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0);
    // The picture shows the tab as it looks, not the ring of the finger's tap.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.screenshot({ path: join(SHOTS, 'host-view-phone.png') });
  }, 120_000);
});
