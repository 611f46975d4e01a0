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
 * While the socket has a backlog, output waits this long to be sent, so that it leaves in
 * a few large frames rather than one small frame per pty read: a queued frame costs a few
 * hundred bytes of bookkeeping whatever its size, and `yes` reads a few hundred bytes at a
 * time. An idle socket sends at once: a keystroke's echo never waits.
 */
const BACKLOG_DELAY_MS = 8;
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
  private flushScheduled = false;
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
    if (this.pendingBytes >= MAX_FRAME) return this.flush();
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (this.ws.bufferedAmount === 0) setImmediate(() => this.flush());
    else this.timers.after(BACKLOG_DELAY_MS, () => this.flush());
  }

  /** Keystrokes from the page for a terminal; false when they were dropped. */
  in(channel: Channel, data: Buffer, write: (data: Buffer) => void): boolean {
    const term = this.term(channel);
    if (!term) return false;
    if (queuedInput(term) + data.length <= MAX_QUEUED_INPUT) {
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
  private flush(): void {
    this.flushScheduled = false;
    this.pendingBytes = 0;
    for (const channel of [CHANNEL.main, CHANNEL.peek]) {
      const chunks = this.pending[channel]!;
      if (chunks.length === 0) continue;
      this.pending[channel] = [];
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      for (let off = 0; off < all.length && this.ws.readyState === this.ws.OPEN; off += MAX_FRAME) {
        this.ws.send(frame(channel, all.subarray(off, off + MAX_FRAME)));
      }
    }
    if (this.ws.bufferedAmount > HIGH_WATER && !this.socketPaused && this.ws.readyState === this.ws.OPEN) {
      this.socketPaused = true;
      this.apply();
      const poll = this.timers.every(10, () => {
        if (this.ws.bufferedAmount >= LOW_WATER) return;
        this.timers.stop(poll);
        this.socketPaused = false;
        this.apply();
      });
    }
  }
}
