// Starts the C helper inside a pty and talks to it over a Unix socket in the session's
// 0700 directory. A connection counts only if the kernel says it comes from the pid we
// spawned (SO_PEERCRED) and it presents the nonce we gave that pid.
import { EventEmitter } from 'node:events';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as pty from 'node-pty';
import { peerPid } from '../sys/ffi.ts';
import { childrenOf, nspid } from '../sys/proc.ts';
import { HelperExit, HelperHello, HelperReply, requestLine, type HelperVerb } from './wire.ts';

export const STEPPER = resolve(dirname(fileURLToPath(import.meta.url)), '../../native/build/stepper');

const HELLO_TIMEOUT_MS = 5000;
const REPLY_TIMEOUT_MS = 15000;

export interface TermSize {
  cols: number;
  rows: number;
}

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'xterm-256color', LANG: 'C.UTF-8' };

/** Spawn a program on a new pty; output arrives as raw bytes for the terminal. */
export function spawnPty(args: string[], size: TermSize, extraEnv: Record<string, string> = {}): pty.IPty {
  if (!existsSync(STEPPER)) throw new Error(`the helper is not built: run npm ci (or make -C lab-server/native)`);
  return pty.spawn(STEPPER, args, { name: 'xterm-256color', cols: size.cols, rows: size.rows, cwd: '/', env: { ...ENV, ...extraEnv }, encoding: null });
}

/**
 * Bytes written to a pty that its program has not taken yet, still queued in this process.
 * node-pty (pinned at 1.1.0) keeps what the kernel's tty buffer refuses (EAGAIN) in a queue
 * and retries it: a terminal whose program reads nothing would grow that queue with every
 * keystroke. The queue is not part of node-pty's API, so it is read here, in one place;
 * test/server/floods.test.ts fails if it ever stops being found.
 */
export function queuedInput(term: pty.IPty): number {
  const queue = (term as unknown as { _writeStream?: { _writeQueue?: { buffer: Uint8Array; offset: number }[] } })._writeStream?._writeQueue ?? [];
  let n = 0;
  for (const task of queue) n += task.buffer.byteLength - task.offset;
  return n;
}

export class HelperGone extends Error {
  constructor() {
    super('the helper process has exited');
  }
}

interface Pending {
  resolve: (r: HelperReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface HelperEvents {
  exit: [HelperExit];
  gone: [];
}

export class Helper extends EventEmitter<HelperEvents> {
  private seq = 0;
  private pending = new Map<number, Pending>();
  private closed = false;
  /** In a seat: the helper's second half (P2, by host pid), which serves from inside it. */
  private seatServer: number | null = null;
  /** The host pid of each child P2 named by its pid in the seat. */
  private readonly hostPids = new Map<number, number>();

  private constructor(
    readonly term: pty.IPty,
    private readonly socket: Socket,
    private readonly server: Server,
  ) {
    super();
    const lines = createInterface({ input: socket });
    lines.on('line', (line) => this.onLine(line));
    // readline re-emits its input's errors (EPIPE, ECONNRESET when the helper dies) on
    // itself: both must be heard, or a dying helper would crash the server.
    lines.on('error', () => this.shutdown());
    socket.on('error', () => this.shutdown());
    socket.on('close', () => this.shutdown());
  }

  get pid(): number {
    return this.term.pid;
  }

  /** Still there to take requests: not killed, not exited, not cut off. */
  get alive(): boolean {
    return !this.closed;
  }

  /** Spawn a helper on a new pty and accept its connection on a socket at `path`. */
  static async start(path: string, size: TermSize): Promise<Helper> {
    const nonce = randomBytes(32).toString('hex');
    const server = createServer();
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(path, ok));
    const term = spawnPty(['run', path], size, { STEPBOX_NONCE: nonce });
    try {
      const socket = await acceptHelper(server, term.pid, nonce);
      return new Helper(term, socket, server);
    } catch (e) {
      term.kill('SIGKILL');
      server.close();
      throw e;
    }
  }

  /**
   * From now on requests are served from inside a seat by `p2` (native/seat.c), which
   * names processes by their pids in the seat's pid namespace: replies and exit events are
   * turned back into host pids here, so the rest of the server knows only those.
   */
  servedFromSeat(p2: number): void {
    this.seatServer = p2;
  }

  /** A pid P2 gave, as the host's: its child whose second NSpid (the seat's) is that pid. */
  private hostPid(seatPid: number): number {
    const p2 = this.seatServer;
    if (p2 === null) return seatPid;
    const known = this.hostPids.get(seatPid);
    if (known !== undefined) return known;
    const host = childrenOf(p2).find((c) => nspid(c)[1] === seatPid) ?? -1;
    if (host > 0) this.hostPids.set(seatPid, host);
    return host;
  }

  request(verb: HelperVerb, args: readonly string[] = []): Promise<HelperReply> {
    if (this.closed) return Promise.reject(new HelperGone());
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`the helper did not answer ${verb} within ${REPLY_TIMEOUT_MS / 1000} s`));
      }, REPLY_TIMEOUT_MS);
      this.pending.set(seq, { resolve, reject, timer });
      this.socket.write(requestLine(seq, verb, args));
    });
  }

  private onLine(line: string): void {
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      return this.protocolError(`not JSON: ${line.slice(0, 80)}`);
    }
    const exit = HelperExit.safeParse(data);
    if (exit.success) return void this.emit('exit', { ...exit.data, pid: this.hostPid(exit.data.pid) });
    const reply = HelperReply.safeParse(data);
    if (!reply.success) return this.protocolError(`unexpected line: ${line.slice(0, 80)}`);
    const p = this.pending.get(reply.data.seq);
    if (!p) return this.protocolError(`reply to a request never made (seq ${reply.data.seq})`);
    this.pending.delete(reply.data.seq);
    clearTimeout(p.timer);
    p.resolve(reply.data.pid === undefined ? reply.data : { ...reply.data, pid: this.hostPid(reply.data.pid) });
  }

  /** A helper that breaks the protocol is not trusted with another request. */
  private protocolError(why: string): void {
    console.error(`[stepbox] helper ${this.pid}: ${why}`);
    this.kill();
  }

  kill(): void {
    try {
      this.term.kill('SIGKILL');
    } catch {
      // already gone
    }
    this.shutdown();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.server.close();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new HelperGone());
    }
    this.pending.clear();
    this.emit('gone');
  }
}

function acceptHelper(server: Server, pid: number, nonce: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the helper did not connect within 5 s')), HELLO_TIMEOUT_MS);
    server.on('connection', (socket) => {
      const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
      if (fd < 0 || peerPid(fd) !== pid) return void socket.destroy();
      const lines = createInterface({ input: socket });
      socket.on('error', () => socket.destroy());
      lines.on('error', () => socket.destroy());
      lines.once('line', (line) => {
        lines.close();
        socket.pause();
        let hello;
        try {
          hello = HelperHello.parse(JSON.parse(line));
        } catch {
          return void socket.destroy();
        }
        const a = Buffer.from(hello.nonce);
        const b = Buffer.from(nonce);
        if (hello.pid !== pid || a.length !== b.length || !timingSafeEqual(a, b)) return void socket.destroy();
        clearTimeout(timer);
        socket.resume();
        resolve(socket);
      });
    });
  });
}
