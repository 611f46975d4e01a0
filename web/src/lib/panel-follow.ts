// How the kernel panel follows the steps inside its own scrolling box: find that box,
// bring a section into it (never scrolling the page), and know when the student has been
// scrolling it themselves, so the panel does not jump under their hand.

/** After the student scrolled the panel, it is theirs for this long. */
export const HANDS_OFF_MS = 2000;

const SCROLL_KEYS = new Set(['ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End', ' ']);

/** The nearest ancestor that scrolls on its own; null when only the page does (a phone's layout). */
export function scrollerOf(el: HTMLElement): HTMLElement | null {
  for (let at = el.parentElement; at && at !== document.body && at !== document.documentElement; at = at.parentElement) {
    const overflow = getComputedStyle(at).overflowY;
    if (overflow === 'auto' || overflow === 'scroll') return at;
  }
  return null;
}

/** Room kept above a changed row brought into view, for what names it (a table's heading). */
const CONTEXT_PX = 48;

/**
 * Scroll `scroller` so that `target` is in view: nothing when it is already whole, else its
 * top just under the panel's sticky header (`topInset` pixels), so it shows from its
 * heading; unless that leaves `focus` (its first changed row) below the view, as a tall
 * section would: then that row, with a little above it. A box that does not overflow does
 * not move.
 */
export function showInScroller(scroller: HTMLElement, target: HTMLElement, topInset: number, focus: HTMLElement | null = null): void {
  const box = scroller.getBoundingClientRect();
  const r = target.getBoundingClientRect();
  const top = box.top + topInset;
  if (r.top >= top && r.bottom <= box.bottom) return;
  let by = r.top - top;
  const f = focus?.getBoundingClientRect();
  if (f && f.bottom - by > box.bottom) by = f.top - top - CONTEXT_PX;
  const still = matchMedia('(prefers-reduced-motion: reduce)').matches;
  scroller.scrollTo({ top: Math.max(0, scroller.scrollTop + by), behavior: still ? 'auto' : 'smooth' });
}

/**
 * When the student last scrolled a box by hand: the wheel, a touch, a scroll key, or a
 * press on its scrollbar. The box's own scroll events cannot tell: the page's scrolling
 * and a section growing above the view fire them too.
 */
export class UserScroll {
  private last = -Infinity;

  watch(scroller: HTMLElement): () => void {
    const note = () => (this.last = performance.now());
    const key = (e: KeyboardEvent) => SCROLL_KEYS.has(e.key) && note();
    // A press on the box itself, not on its content, is a press on its scrollbar.
    const press = (e: PointerEvent) => e.target === scroller && note();
    scroller.addEventListener('wheel', note, { passive: true });
    scroller.addEventListener('touchmove', note, { passive: true });
    scroller.addEventListener('keydown', key);
    scroller.addEventListener('pointerdown', press);
    return () => {
      scroller.removeEventListener('wheel', note);
      scroller.removeEventListener('touchmove', note);
      scroller.removeEventListener('keydown', key);
      scroller.removeEventListener('pointerdown', press);
    };
  }

  /** The student scrolled the box in the last HANDS_OFF_MS. */
  recent(now = performance.now()): boolean {
    return now - this.last < HANDS_OFF_MS;
  }
}
