// The kernel panel keeps its hands off for two seconds after the student scrolled it.
import { expect, test } from 'vitest';
import { HANDS_OFF_MS, UserScroll } from './panel-follow.ts';

const box = () => new EventTarget() as unknown as HTMLElement;

test('a wheel or a press on its scrollbar makes the panel the student’s for two seconds', () => {
  for (const kind of ['wheel', 'touchmove', 'pointerdown']) {
    const panel = box();
    const user = new UserScroll();
    user.watch(panel);
    expect(user.recent()).toBe(false);
    panel.dispatchEvent(new Event(kind));
    expect(user.recent(), kind).toBe(true);
    expect(user.recent(performance.now() + HANDS_OFF_MS + 1)).toBe(false);
  }
});

test('once unwatched, the box’s events no longer count', () => {
  const panel = box();
  const user = new UserScroll();
  user.watch(panel)();
  panel.dispatchEvent(new Event('wheel'));
  expect(user.recent()).toBe(false);
});
