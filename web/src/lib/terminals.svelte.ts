// The page's side of the two terminals (the container's pty and the peek shell): bytes on
// their way to the xterm components, with flow control back to the server, bytes kept for
// a terminal not on the page yet, keystrokes out, and each terminal's size, sent once.
import { CHANNEL, type Channel } from './protocol.ts';
import { FlowControl } from './flow.ts';
import type { LabSocket } from './socket.ts';

/** Where a terminal component receives its bytes. */
export interface TerminalSink {
  /** Write bytes; call `done` once the terminal has processed them (flow control). */
  write(data: Uint8Array, done: () => void): void;
  /** Forget everything shown: a new container has a new pty. */
  clear(): void;
}

type Size = { cols: number; rows: number };

const SIZE_LIMITS = { cols: [10, 500], rows: [5, 200] } as const;
const clamp = (v: number, [lo, hi]: readonly [number, number]) => Math.min(hi, Math.max(lo, Math.round(v)));
/** Bytes kept for a terminal that is not on the page yet (e.g. the peek tab before it mounts). */
const UNATTACHED_LIMIT = 256 * 1024;

export class Terminals {
  /** Whether the container's terminal has shown anything yet (else the page explains it). */
  mainHasOutput = $state(false);

  private sinks = new Map<Channel, TerminalSink>();
  private unattached = new Map<Channel, { chunks: Uint8Array[]; bytes: number }>();
  private sizes = new Map<Channel, Size>();
  private sentSizes = new Map<Channel, string>();
  private readonly flow: FlowControl;
  private readonly encoder = new TextEncoder();

  constructor(
    /** The socket to the server while one is open and welcomed, else null. */
    private readonly socket: () => LabSocket | null,
  ) {
    this.flow = new FlowControl((pause) => this.socket()?.send({ t: pause ? 'pause' : 'resume' }));
  }

  /** Connect a terminal component to a channel; returns the function that disconnects it. */
  attach(channel: Channel, sink: TerminalSink): () => void {
    this.sinks.set(channel, sink);
    for (const chunk of this.unattached.get(channel)?.chunks ?? []) this.deliver(sink, chunk);
    this.unattached.delete(channel);
    return () => {
      if (this.sinks.get(channel) === sink) this.sinks.delete(channel);
    };
  }

  /** Bytes from the server for a channel. */
  output(channel: Channel, data: Uint8Array): void {
    if (channel === CHANNEL.main && !this.mainHasOutput) this.mainHasOutput = true;
    const sink = this.sinks.get(channel);
    if (sink) return this.deliver(sink, data);
    const kept = this.unattached.get(channel) ?? { chunks: [], bytes: 0 };
    if (kept.bytes < UNATTACHED_LIMIT) {
      kept.chunks.push(data.slice());
      kept.bytes += data.length;
    }
    this.unattached.set(channel, kept);
  }

  private deliver(sink: TerminalSink, data: Uint8Array): void {
    const n = data.length;
    this.flow.queued(n);
    sink.write(data, () => this.flow.drained(n));
  }

  /** Keys typed into a terminal (xterm's onData gives text). */
  input(channel: Channel, text: string): void {
    this.socket()?.sendBytes(channel, this.encoder.encode(text));
  }

  /** xterm's onBinary: each char is one byte (some mouse reports are not UTF-8). */
  inputBinary(channel: Channel, data: string): void {
    this.socket()?.sendBytes(channel, Uint8Array.from(data, (c) => c.charCodeAt(0) & 0xff));
  }

  resize(channel: Channel, cols: number, rows: number): void {
    this.sizes.set(channel, { cols: clamp(cols, SIZE_LIMITS.cols), rows: clamp(rows, SIZE_LIMITS.rows) });
    this.sendSize(channel);
  }

  /** Send a channel's size unless the server already has it. */
  sendSize(channel: Channel): void {
    const size = this.sizes.get(channel);
    const socket = this.socket();
    if (!size || !socket) return;
    const key = `${size.cols}x${size.rows}`;
    if (this.sentSizes.get(channel) === key) return;
    this.sentSizes.set(channel, key);
    socket.send({ t: 'resize', channel, ...size });
  }

  /** The size a new hello carries for the container's pty (the server makes it that size). */
  helloSize(): Size {
    const main = this.sizes.get(CHANNEL.main) ?? { cols: 80, rows: 24 };
    this.flow.reset();
    this.sentSizes.set(CHANNEL.main, `${main.cols}x${main.rows}`);
    return main;
  }

  /** The server's pty for a channel may have any size now (a new session, a new peek shell). */
  sizeUnknown(channel?: Channel): void {
    if (channel === undefined) this.sentSizes.clear();
    else this.sentSizes.delete(channel);
  }

  /** Forget what one terminal shows (the peek shell, when it closes). */
  clearOne(channel: Channel): void {
    this.sinks.get(channel)?.clear();
  }

  /** What the terminals show belongs to a container that is gone, or is about to be replayed. */
  clear(): void {
    for (const sink of this.sinks.values()) sink.clear();
    this.unattached.clear();
    this.mainHasOutput = false;
  }
}
