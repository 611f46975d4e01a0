// Flow control for terminal output, in the manner of ttyd: xterm.js parses what it is
// given asynchronously, so a fast producer (`yes`, `cat /dev/urandom | hexdump`) can
// queue megabytes that the page then renders for seconds after Ctrl-C. We count the
// bytes handed to xterm that it has not finished with yet (its write callback says
// when it has), ask the server to stop reading the pty above a high watermark, and to
// go on below a low one. The gap between the two avoids a pause/resume storm.

export const HIGH_WATER = 256 * 1024;
export const LOW_WATER = 32 * 1024;

export class FlowControl {
  private pending = 0;
  private paused = false;

  constructor(
    /** Called with true to send `pause`, false to send `resume`. */
    private readonly signal: (pause: boolean) => void,
    private readonly high = HIGH_WATER,
    private readonly low = LOW_WATER,
  ) {}

  /** Bytes were handed to a terminal. */
  queued(bytes: number): void {
    this.pending += bytes;
    if (!this.paused && this.pending > this.high) {
      this.paused = true;
      this.signal(true);
    }
  }

  /** A terminal has finished with bytes handed to it earlier. */
  drained(bytes: number): void {
    this.pending = Math.max(0, this.pending - bytes);
    if (this.paused && this.pending < this.low) {
      this.paused = false;
      this.signal(false);
    }
  }

  /** A new connection starts unpaused on the server, so forget the old state without signalling. */
  reset(): void {
    this.paused = false;
  }

  get backlog(): number {
    return this.pending;
  }

  get isPaused(): boolean {
    return this.paused;
  }
}
