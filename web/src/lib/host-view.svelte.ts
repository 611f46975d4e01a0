// The Host tab's state: whether the student looks at it, and the last view the server
// sent. The server reads the view only while the tab is shown, so the page says when it
// is, once per socket (Lab.syncHostView).
import type { HostView } from './protocol.ts';

export class HostViewState {
  /** The Host tab is the one on screen. */
  shown = $state(false);
  view = $state.raw<HostView | null>(null);
  /** What this socket was last told: a new socket has no feed, as if told false. */
  sent = false;

  /** Another container: what was read of the old one is not this one's. */
  forget(): void {
    this.view = null;
  }
}
