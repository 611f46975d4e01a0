// Both terminals of a tab (the container's pty and the peek shell's) over its WebSocket,
// with flow control both ways. A page that reads nothing, or a program that reads nothing,
// must cost the server a bounded amount, not a buffer per read or per keystroke.
import type { IPty } from 'node-pty';
import type { WebSocket } from 'ws';
import { queuedInput } from '../helper/client.ts';
import { CHANNEL, frame, type Channel } from '../protocol/messages.ts';
import type { Said } from '../protocol/results.ts';
import type { Timers } from './timers.ts';

/** Above this many unsent bytes the ptys are no longer read, like ttyd's pause. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 128 * 1024;
/** Terminal output is coalesced into frames of at most this size. */
const MAX_FRAME = 64 * 1024;
/**
 * Output read this soon after the last frame left is a stream (`cat` of a big file, `yes`):
 * it waits up to STREAM_WAIT_MS, or until a whole frame has gathered, and leaves as one
 * large frame. Sending each pty read (4 KiB at most) as a frame of its own costs a socket
 * write per read, and the next read waits behind it. Output after a pause, or after a
 * keystroke (its echo), leaves at once.
 */
const STREAM_GAP_MS = 1;
const STREAM_WAIT_MS = 4;
/** Keystrokes a terminal may have queued but not read; past it, input is dropped and the page told. */
const MAX_QUEUED_INPUT = 256 * 1024;
/**
 * While input is being dropped the socket is not read for this long, so a client pouring
 * keystrokes in is held back by TCP instead of costing the server a buffer per frame;
 * short enough that a Restart or Ctrl+C sent meanwhile is barely delayed.
 */
const INPUT_HOLD_MS = 100;
/** The page is told about dropped input at most this often, per terminal. */
const DROPPED_NOTICE_MS = 10_000;

const WHICH: Record<Channel, Said> = {
  [CHANNEL.main]: { en: 'the container’s terminal', zh: '容器终端' },
  [CHANNEL.peek]: { en: 'the peek shell', zh: '窥视终端' },
};

export interface Terminals {
  main: IPty | null;
  peek: IPty | null;
}

export class TerminalStream {
  private pending: Buffer[][] = [[], []];
  private pendingBytes = 0;
  /** Counts flushes: a flush scheduled before the latest one finds nothing left to do. */
  private flushes = 0;
  /** The flush on its way, if any: after which flush it was asked for, and how soon. */
  private scheduled: { at: number; when: 'soon' | 'later' } | null = null;
  /** When output last left, to tell a stream from a reply to a keystroke. */
  private lastSent = -Infinity;
  /** Keystrokes went in since output last left: what comes next is their echo. */
  private typed = false;
  /**
   * Frames handed to the socket and not yet written out. While there are any, output waits
   * and the write's own callback sends it: the socket sets the pace, and a page that reads
   * slowly gets fewer, larger frames.
   */
  private inFlight = 0;
  private clientPaused = false;
  private socketPaused = false;
  /** When the page was last told that a channel's input is being dropped. */
  private toldDropped = [-Infinity, -Infinity];

  constructor(
    private readonly ws: WebSocket,
    private readonly timers: Timers,
    /** The ptys output comes from now: they change with the session and the peek shell. */
    private readonly terminals: () => Terminals,
    /** Tell the page that input is being dropped. */
    private readonly dropping: (which: Said, boundKiB: number) => void,
  ) {}

  /** Output of a terminal, on its way to the page. */
  out(channel: Channel, data: Buffer): void {
    this.pending[channel]!.push(data);
    this.pendingBytes += data.length;
    this.schedule();
  }

  private schedule(): void {
    // A whole frame goes even behind a write in flight: the water marks bound what waits in
    // the socket, and it waits as large buffers, not as the thousands of small reads of `yes`.
    if (this.pendingBytes >= MAX_FRAME) return this.flush(true);
    if (this.inFlight > 0) return this.checkWater(); // the write's callback schedules again
    if (this.pendingBytes === 0) return;
    const stream = !this.typed && performance.now() - this.lastSent < STREAM_GAP_MS;
    // An echo does not wait behind a stream's timer: it asks for the next turn of the loop.
    const wanted = stream ? 'later' : 'soon';
    if (this.scheduled?.at === this.flushes && (this.scheduled.when === 'soon' || wanted === 'later')) return;
    const at = this.flushes;
    this.scheduled = { at, when: wanted };
    const flush = () => at === this.flushes && this.flush();
    if (stream) this.timers.after(STREAM_WAIT_MS, flush);
    else setImmediate(flush);
  }

  /** Keystrokes from the page for a terminal; false when they were dropped. */
  in(channel: Channel, data: Buffer, write: (data: Buffer) => void): boolean {
    const term = this.term(channel);
    if (!term) return false;
    if (queuedInput(term) + data.length <= MAX_QUEUED_INPUT) {
      this.typed = true;
      write(data);
      return true;
    }
    // Whatever runs there is not reading its terminal: keep nothing more for it.
    if (performance.now() - this.toldDropped[channel]! > DROPPED_NOTICE_MS) {
      this.toldDropped[channel] = performance.now();
      this.dropping(WHICH[channel], MAX_QUEUED_INPUT / 1024);
    }
    if (!this.ws.isPaused) {
      this.ws.pause();
      this.timers.after(INPUT_HOLD_MS, () => this.ws.resume());
    }
    return false;
  }

  /** The page says it cannot draw more (or can again). */
  pageSays(paused: boolean): void {
    this.clientPaused = paused;
    this.apply();
  }

  /** Read both ptys, or neither, as the page and the socket allow; call when a pty changes too. */
  apply(): void {
    this.setPaused(this.clientPaused || this.socketPaused);
  }

  /** The tab has gone: whatever it paused runs again (its session may be re-attached). */
  release(): void {
    if (this.clientPaused || this.socketPaused) this.setPaused(false);
  }

  private term(channel: Channel): IPty | null {
    const t = this.terminals();
    return channel === CHANNEL.main ? t.main : t.peek;
  }

  private setPaused(paused: boolean): void {
    const { main, peek } = this.terminals();
    for (const term of [main, peek]) {
      if (paused) term?.pause();
      else term?.resume();
    }
  }

  /** Several pty reads become one frame: fewer, larger WebSocket messages. */
  private flush(whole = false): void {
    this.flushes++;
    if (this.inFlight > 0 && !whole) return; // the write in flight schedules what waits
    this.pendingBytes = 0;
    for (const channel of [CHANNEL.main, CHANNEL.peek]) {
      const chunks = this.pending[channel]!;
      if (chunks.length === 0) continue;
      this.pending[channel] = [];
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      for (let off = 0; off < all.length && this.ws.readyState === this.ws.OPEN; off += MAX_FRAME) {
        this.inFlight++;
        this.ws.send(frame(channel, all.subarray(off, off + MAX_FRAME)), this.written);
      }
    }
    this.lastSent = performance.now();
    this.typed = false;
    this.checkWater();
  }

  /** A frame has reached the kernel (or the socket failed): what gathered meanwhile may go. */
  private readonly written = (): void => {
    this.inFlight--;
    if (this.inFlight === 0 && this.ws.readyState === this.ws.OPEN) this.schedule();
    else this.checkWater();
  };

  /** Stop reading the ptys while too much waits for the socket; read again once it has drained. */
  private checkWater(): void {
    const unsent = this.pendingBytes + this.ws.bufferedAmount;
    const paused = this.socketPaused ? unsent >= LOW_WATER : unsent > HIGH_WATER;
    if (paused === this.socketPaused || this.ws.readyState !== this.ws.OPEN) return;
    this.socketPaused = paused;
    this.apply();
  }
}
