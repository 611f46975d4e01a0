// One browser tab: validates each message against the protocol, runs what it asks on its
// session, and streams the terminals back with flow control.
//
// A connection can close at any moment, including while one of its requests is between two
// awaits. So: every handler starts by asking whether the tab is still there, a session
// opened for a tab that has gone is reaped at once (nobody ever learned its id), and every
// timer belongs to the connection and dies with it.
import type { WebSocket, RawData } from 'ws';
import type { IPty } from 'node-pty';
import { queuedInput, spawnPty, type TermSize } from '../helper/client.ts';
import { evaluate } from '../lessons/expect.ts';
import { taskDone } from '../lessons/tasks.ts';
import { LessonError } from '../lessons/load.ts';
import { forPage } from '../lessons/format.ts';
import { ClientMessage, CHANNEL, PROTOCOL_VERSION, frame, type Channel, type ServerMessage } from '../protocol/messages.ts';
import type { StepResult } from '../protocol/results.ts';
import { Metrics } from '../session/metrics.ts';
import { isAlive } from '../sys/proc.ts';
import { Declined, type Attachment, type Entry, type Hub } from './hub.ts';
import { RateLimit } from './limits.ts';

/** Above this many unsent bytes the ptys are no longer read, like ttyd's pause. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 128 * 1024;
/**
 * Past this many unsent bytes the page is not reading at all (the ptys are paused long
 * before, so only JSON piles up here): the connection is dropped, its session kept for the
 * grace period like any closed tab's.
 */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** Terminal output is coalesced into frames of at most this size. */
const MAX_FRAME = 64 * 1024;
/**
 * While the socket has a backlog, output waits this long to be sent, so that it leaves in
 * a few large frames rather than one small frame per pty read: a queued frame costs a
 * few hundred bytes of bookkeeping whatever its size, and `yes` reads a few hundred bytes
 * at a time. An idle socket sends at once: a keystroke's echo never waits.
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
/** Requests waiting behind the one being handled; a page never needs more than a few. */
const MAX_QUEUED_REQUESTS = 32;
/** A socket that has not said hello by then is not a page. */
const HELLO_TIMEOUT_MS = 10_000;
/** How often the open step's tasks are checked against the kernel. */
const TASK_CHECK_MS = 1000;
const SNAPSHOT_REFRESH_MS = 2000;
/** How often the cpu and memory groups are sampled for the page's live graphs. */
const METRICS_MS = 1000;

export class Connection implements Attachment {
  private entry: Entry | null = null;
  private closed = false;
  private pending: Buffer[][] = [[], []];
  private pendingBytes = 0;
  private flushScheduled = false;
  private clientPaused = false;
  private socketPaused = false;
  private busy: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Every timer of this tab, so that closing it stops them all. */
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The session-bound timers (snapshot refresh, metrics), made at the first welcome. */
  private ticking = false;
  private lastSnapshot = '';
  /** Samples the session's cpu and memory groups; made again for each new session. */
  private sampler: Metrics | null = null;
  /** The step whose tasks are being checked, and what was last said of them. */
  private watching: { stepId: string; done: string } | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private checking = false;
  /** Each peek starts a process: a few at once, then one a second. */
  private readonly peeks = new RateLimit(4, 1);
  /** Set when hello arrives, before its session exists: later messages queue behind it. */
  private greeted = false;
  /** When the page was last told that a channel's input is being dropped. */
  private toldDropped = [-Infinity, -Infinity];

  constructor(
    private readonly ws: WebSocket,
    private readonly hub: Hub,
  ) {
    ws.on('message', (data, isBinary) => {
      try {
        this.onMessage(data, isBinary);
      } catch (e) {
        console.error(`[stepbox] a message could not be handled: ${(e as Error).stack ?? e}`);
        this.policy('internal error');
      }
    });
    // ws reports an oversized or malformed frame as an error after it has begun the close
    // with the code that says why (1009, 1002): the page gets that code. (Terminating here
    // could throw the close frame away before it left.) A socket error needs nothing more.
    ws.on('error', () => undefined);
    ws.on('close', () => this.onClose());
    this.after(HELLO_TIMEOUT_MS, () => this.greeted || this.policy('no hello'));
  }

  private onClose(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.watching = null;
    if (this.entry) {
      if (this.socketPaused || this.clientPaused) this.setPaused(this.entry, false);
      this.hub.detach(this.entry, this);
    }
    this.entry = null;
  }

  /** A timer of this tab: its errors are logged, never thrown into the event loop. */
  private every(ms: number, fn: () => unknown): NodeJS.Timeout {
    const t = setInterval(() => this.guarded(fn), ms);
    this.timers.add(t);
    return t;
  }

  private after(ms: number, fn: () => unknown): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.guarded(fn);
    }, ms);
    this.timers.add(t);
  }

  private stop(t: NodeJS.Timeout): void {
    clearInterval(t);
    this.timers.delete(t);
  }

  private guarded(fn: () => unknown): void {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((e: Error) => console.error(`[stepbox] ${e.stack ?? e}`));
    } catch (e) {
      console.error(`[stepbox] ${(e as Error).stack ?? e}`);
    }
  }

  private send(msg: ServerMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED) return void this.ws.terminate();
    this.ws.send(JSON.stringify(msg));
  }

  private policy(why: string): void {
    this.ws.close(1008, why.slice(0, 120));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) return this.greeted ? this.onInput(buf) : this.policy('hello first');
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return this.policy('not JSON');
    }
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) return this.policy('not a stepbox message');
    const msg = parsed.data;
    if (msg.t === 'hello') {
      if (this.greeted) return this.policy('hello twice');
      this.greeted = true;
    } else if (!this.greeted) return this.policy('hello first');
    if (this.queued >= MAX_QUEUED_REQUESTS) return this.policy('too many requests at once');
    // Requests are handled one after another, as they came.
    this.queued++;
    this.busy = this.busy
      .then(() => (this.closed ? undefined : this.handle(msg)))
      .catch((e: Error) => this.send({ t: 'error', code: 'internal', en: e.message, zh: e.message }))
      .finally(() => this.queued--);
  }

  private onInput(buf: Buffer): void {
    const e = this.entry;
    if (!e || buf.length < 1) return;
    const channel = buf[0];
    if (channel !== CHANNEL.main && channel !== CHANNEL.peek) return;
    const term = channel === CHANNEL.main ? e.session.helper.term : e.peek;
    if (!term) return;
    const data = buf.subarray(1);
    if (queuedInput(term) + data.length > MAX_QUEUED_INPUT) {
      // Whatever runs there is not reading its terminal: keep nothing more for it.
      if (performance.now() - this.toldDropped[channel]! > DROPPED_NOTICE_MS) {
        this.toldDropped[channel] = performance.now();
        const which = channel === CHANNEL.main ? { en: 'the container’s terminal', zh: '容器终端' } : { en: 'the peek shell', zh: '窥视终端' };
        this.send({
          t: 'error',
          code: 'input-dropped',
          en: `What you type is being dropped: the program in ${which.en} is not reading its input (${MAX_QUEUED_INPUT / 1024} KiB are already waiting for it). Stop it with Ctrl+C, or wait.`,
          zh: `你输入的内容正在被丢弃：${which.zh}里的程序没有读取输入（已有 ${MAX_QUEUED_INPUT / 1024} KiB 在等它读）。可以按 Ctrl+C 停止它，或稍等。`,
        });
      }
      if (!this.ws.isPaused) {
        this.ws.pause();
        this.after(INPUT_HOLD_MS, () => this.ws.resume());
      }
      return;
    }
    if (channel === CHANNEL.main) e.session.write(data);
    else term.write(data);
  }

  private async handle(msg: ClientMessage): Promise<void> {
    if (msg.t !== 'hello' && !this.entry) {
      return this.send({ t: 'error', code: 'no-session', en: 'There is no session on this connection: reload the page.', zh: '这个连接上没有会话：请刷新页面。' });
    }
    switch (msg.t) {
      case 'hello':
        return this.hello(msg.lesson, msg.session, { cols: msg.cols, rows: msg.rows });
      case 'run':
        return void (await this.run(msg.stepId, msg.params));
      case 'runAll':
        for (const step of this.entry!.lesson.steps) {
          if (this.closed || !this.entry) return;
          if (this.entry.results.get(step.id)?.ok) continue;
          const r = await this.run(step.id);
          if (!r?.ok) break;
        }
        return;
      case 'reset':
        return this.reset();
      case 'peek':
        return msg.open ? this.openPeek() : this.entry!.closePeek();
      case 'resize':
        if (msg.channel === CHANNEL.main) this.entry!.session.resize(msg);
        else this.entry!.peek?.resize(msg.cols, msg.rows);
        return;
      case 'watch':
        return this.watch(msg.stepId);
      case 'pause':
      case 'resume':
        this.clientPaused = msg.t === 'pause';
        return this.applyPause();
    }
  }

  private async hello(lessonId: string, sessionId: string | undefined, size: TermSize): Promise<void> {
    const old = sessionId ? this.hub.take(sessionId, this) : undefined;
    if (old && old.lesson.id === lessonId) {
      this.entry = old;
      old.session.resize(size);
      this.welcome();
      const history = old.history();
      if (history.length) this.term(CHANNEL.main, history);
      return;
    }
    if (old) this.hub.detach(old, this);
    await this.adopt(() => this.hub.open(lessonId, size), lessonId);
  }

  /**
   * Open a session and make it this tab's. A tab that closed while it was being opened
   * never learned its id, so nobody could re-attach it: it is reaped at once.
   */
  private async adopt(open: () => Promise<Entry>, lessonId: string): Promise<void> {
    let entry: Entry;
    try {
      entry = await open();
    } catch (e) {
      if (e instanceof Declined) return this.send({ t: 'error', code: e.code, en: e.en, zh: e.zh });
      if (e instanceof LessonError) return this.send({ t: 'error', code: 'no-lesson', en: `There is no lesson "${lessonId}" here.`, zh: `这里没有名为“${lessonId}”的课程。` });
      throw e;
    }
    if (this.closed) return void this.hub.close(entry);
    this.entry = entry;
    this.hub.attach(entry, this);
    this.welcome();
  }

  private welcome(): void {
    const e = this.entry!;
    if (!this.ticking) {
      this.ticking = true;
      this.every(SNAPSHOT_REFRESH_MS, () => this.refreshSnapshot());
      this.every(METRICS_MS, () => this.sendMetrics());
    }
    this.applyPause();
    this.send({
      t: 'welcome',
      v: PROTOCOL_VERSION,
      session: e.id,
      lesson: forPage(e.lesson),
      host: this.hub.hostInfo(),
      results: [...e.results.values()],
      phase: e.session.state.phase,
      snapshot: e.session.snapshot(),
      graceSeconds: this.hub.graceSeconds,
    });
  }

  /** Linear order: a step runs only when every step before it has succeeded. */
  private async run(stepId: string, params?: Record<string, unknown>): Promise<StepResult | undefined> {
    const e = this.entry!;
    const index = e.lesson.steps.findIndex((s) => s.id === stepId);
    const step = e.lesson.steps[index];
    if (!step) return void this.send({ t: 'error', code: 'no-step', en: `This lesson has no step ${stepId}.`, zh: `本课没有步骤 ${stepId}。` });
    const missing = e.lesson.steps.slice(0, index).find((s) => !e.results.get(s.id)?.ok);
    this.send({ t: 'running', stepId });
    let result: StepResult;
    if (missing) {
      result = e.session.refused(step.kind, { code: 'out-of-order', en: `Run "${missing.title.en}" first: each step builds on the ones before it.`, zh: `请先运行“${missing.title.zh}”：每一步都建立在前面的步骤之上。` }, stepId);
    } else {
      result = await e.session.run({ kind: step.kind, params: { ...step.params, ...params } }, stepId);
      result.checks = evaluate(step.expect, result.snapshot);
    }
    // A refused re-run of a step that already succeeded does not undo it: the kernel
    // state it built is still there, and the steps after it still stand on it.
    const before = e.results.get(stepId);
    if (!(result.refusal && result.calls.length === 0 && before?.ok)) e.results.set(stepId, result);
    this.send({ t: 'result', result });
    return result;
  }

  /** While a step is open on the page, ask the kernel about its tasks once a second. */
  private watch(stepId: string | null): void {
    const step = this.entry!.lesson.steps.find((s) => s.id === stepId);
    this.watching = step && step.tasks.length > 0 ? { stepId: step.id, done: '-' } : null;
    if (!this.watching) return;
    this.watchTimer ??= this.every(TASK_CHECK_MS, () => this.checkTasks());
    this.guarded(() => this.checkTasks());
  }

  /**
   * One round of checks at a time per tab, whatever the page sends: a check may start a
   * process inside the container, and a page that switched steps a thousand times a second
   * must not start a thousand.
   */
  private async checkTasks(): Promise<void> {
    const e = this.entry;
    const w = this.watching;
    if (this.checking || !e || !w) return;
    const step = e.lesson.steps.find((s) => s.id === w.stepId)!;
    this.checking = true;
    try {
      const done: string[] = [];
      for (const task of step.tasks) if (await taskDone(e.session, task)) done.push(task.id);
      const key = done.join(' ');
      if (this.watching === w && this.entry === e && w.done !== key) {
        w.done = key;
        this.send({ t: 'tasks', stepId: step.id, done });
      }
    } finally {
      this.checking = false;
    }
  }

  private unwatch(): void {
    this.watching = null;
  }

  private async reset(): Promise<void> {
    const old = this.entry!;
    this.unwatch();
    // Until the hub agrees to a new session the old one stays: a refused reset loses nothing.
    await this.adopt(async () => {
      try {
        return await this.hub.open(old.lesson.id, { cols: 100, rows: 30 }, old);
      } finally {
        if (!this.hub.holds(old)) this.entry = null;
      }
    }, old.lesson.id);
  }

  private openPeek(): void {
    const e = this.entry!;
    const pid = e.session.state.pid;
    if (pid === null || !isAlive(pid)) {
      return this.send({ t: 'peek', open: false, reason: { en: 'There is no container process to look into yet: run clone() first.', zh: '还没有可以查看的容器进程：请先执行 clone()。' } });
    }
    if (!this.peeks.take()) {
      return this.send({ t: 'peek', open: false, reason: { en: 'Peek shells are being opened faster than one a second: wait a moment.', zh: '打开窥视终端太频繁了（每秒最多一个）：请稍等片刻。' } });
    }
    e.closePeek();
    const p = spawnPty(['peek', String(pid)], { cols: 100, rows: 30 });
    e.peek = p;
    p.onData((d) => this.term(CHANNEL.peek, Buffer.isBuffer(d) ? d : Buffer.from(d)));
    p.onExit(() => {
      if (e.peek !== p) return;
      e.peek = null;
      this.peekClosed();
    });
    this.applyPause();
    this.send({ t: 'peek', open: true });
  }

  // Attachment: what the hub and the session push to this tab.

  term(channel: Channel, data: Buffer): void {
    this.pending[channel]!.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= MAX_FRAME) return this.flush();
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (this.ws.bufferedAmount === 0) setImmediate(() => this.flush());
    else this.after(BACKLOG_DELAY_MS, () => this.flush());
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
    if (this.ws.bufferedAmount > HIGH_WATER && !this.socketPaused && !this.closed) {
      this.socketPaused = true;
      this.applyPause();
      const poll = this.every(10, () => {
        if (this.ws.bufferedAmount >= LOW_WATER) return;
        this.stop(poll);
        this.socketPaused = false;
        this.applyPause();
      });
    }
  }

  /** Both terminals stop being read while the page or the socket cannot take more. */
  private applyPause(): void {
    if (this.entry) this.setPaused(this.entry, this.clientPaused || this.socketPaused);
  }

  private setPaused(e: Entry, paused: boolean): void {
    for (const term of [e.session.helper.term, e.peek] as (IPty | null)[]) {
      if (paused) term?.pause();
      else term?.resume();
    }
  }

  /** Send the snapshot again when the running container changed it (a mount, a new process's cgroup). */
  private refreshSnapshot(): void {
    const e = this.entry;
    if (!e || e.session.state.phase !== 'running') return;
    const snapshot = e.session.snapshot();
    const key = JSON.stringify(snapshot);
    if (key === this.lastSnapshot) return;
    this.lastSnapshot = key;
    this.send({ t: 'state', phase: e.session.state.phase, snapshot, exitInfo: e.session.state.exitInfo });
  }

  /** While the session has a cpu or memory group, one sample a second for the live graphs. */
  private sendMetrics(): void {
    const e = this.entry;
    if (!e) return;
    if (this.sampler?.session !== e.session) this.sampler = new Metrics(e.session);
    const sample = this.sampler.sample();
    if (sample) this.send({ t: 'metrics', sample });
  }

  changed(): void {
    const e = this.entry;
    if (e) this.send({ t: 'state', phase: e.session.state.phase, snapshot: e.session.snapshot(), exitInfo: e.session.state.exitInfo });
  }

  peekClosed(): void {
    this.send({ t: 'peek', open: false });
  }

  displaced(): void {
    this.unwatch();
    this.entry = null;
    this.ws.close(4001, 'this session was opened in another tab');
  }
}
