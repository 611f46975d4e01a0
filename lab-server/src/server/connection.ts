// One browser tab: validates each message against the protocol, runs what it asks on its
// session, and streams the terminals back with flow control.
import type { WebSocket, RawData } from 'ws';
import { spawnPty, type TermSize } from '../helper/client.ts';
import { evaluate } from '../lessons/expect.ts';
import { taskDone } from '../lessons/tasks.ts';
import { LessonError } from '../lessons/load.ts';
import { forPage } from '../lessons/format.ts';
import { ClientMessage, CHANNEL, PROTOCOL_VERSION, frame, type ServerMessage } from '../protocol/messages.ts';
import type { StepResult } from '../protocol/results.ts';
import { Metrics } from '../session/metrics.ts';
import { isAlive } from '../sys/proc.ts';
import type { Attachment, Entry, Hub } from './hub.ts';

/** Above this many unsent bytes the pty is no longer read, like ttyd's pause. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 128 * 1024;
/** Terminal output is coalesced into frames of at most this size. */
const MAX_FRAME = 64 * 1024;
/** How often the open step's tasks are checked against the kernel. */
const TASK_CHECK_MS = 1000;
const SNAPSHOT_REFRESH_MS = 2000;
/** How often the cpu and memory groups are sampled for the page's live graphs. */
const METRICS_MS = 1000;

export class Connection implements Attachment {
  private entry: Entry | null = null;
  private pending: Buffer[][] = [[], []];
  private flushScheduled = false;
  private clientPaused = false;
  private socketPaused = false;
  private busy: Promise<unknown> = Promise.resolve();
  /** While the shell runs, what the student does in it changes the kernel: re-read it. */
  private refresh: NodeJS.Timeout | null = null;
  private lastSnapshot = '';
  /** Samples the session's cpu and memory groups; made again for each new session. */
  private metrics: { sampler: Metrics | null; timer: NodeJS.Timeout } | null = null;
  /** The step whose tasks are being checked, and the timer that checks them. */
  private watching: { stepId: string; timer: NodeJS.Timeout; done: string } | null = null;
  /** Set when hello arrives, before its session exists: later messages queue behind it. */
  private greeted = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly hub: Hub,
  ) {
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    // ws reports an oversized or malformed frame as an error, then closes (1009, 1002).
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.unwatch();
      if (this.refresh) clearInterval(this.refresh);
      if (this.metrics) clearInterval(this.metrics.timer);
      if (this.entry) this.hub.detach(this.entry, this);
      this.entry = null;
    });
  }

  private send(msg: ServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private policy(why: string): void {
    this.ws.close(1008, why.slice(0, 120));
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) return this.onInput(buf);
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
    // Requests are handled one after another, as they came.
    this.busy = this.busy.then(() => this.handle(msg)).catch((e: Error) => this.send({ t: 'error', code: 'internal', en: e.message, zh: e.message }));
  }

  private onInput(buf: Buffer): void {
    if (!this.entry || buf.length < 1) return;
    const data = buf.subarray(1);
    if (buf[0] === CHANNEL.main) this.entry.session.write(data);
    else if (buf[0] === CHANNEL.peek) this.entry.peek?.write(data);
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
          if (this.entry!.results.get(step.id)?.ok) continue;
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
    try {
      this.entry = await this.hub.open(lessonId, size);
    } catch (e) {
      if (!(e instanceof LessonError)) throw e;
      return this.send({ t: 'error', code: 'no-lesson', en: `There is no lesson "${lessonId}" here.`, zh: `这里没有名为“${lessonId}”的课程。` });
    }
    this.hub.attach(this.entry, this);
    this.welcome();
  }

  private welcome(): void {
    const e = this.entry!;
    this.refresh ??= setInterval(() => this.refreshSnapshot(), SNAPSHOT_REFRESH_MS);
    this.metrics ??= { sampler: null, timer: setInterval(() => this.sendMetrics(), METRICS_MS) };
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
    this.unwatch();
    const step = this.entry!.lesson.steps.find((s) => s.id === stepId);
    if (!step || step.tasks.length === 0) return;
    let checking = false;
    const tick = async () => {
      const e = this.entry;
      if (checking || !e) return;
      checking = true;
      try {
        const done: string[] = [];
        for (const task of step.tasks) if (await taskDone(e.session, task)) done.push(task.id);
        const key = done.join(' ');
        if (this.watching?.stepId === step.id && this.watching.done !== key) {
          this.watching.done = key;
          this.send({ t: 'tasks', stepId: step.id, done });
        }
      } finally {
        checking = false;
      }
    };
    this.watching = { stepId: step.id, timer: setInterval(() => void tick(), TASK_CHECK_MS), done: '-' };
    void tick();
  }

  private unwatch(): void {
    if (this.watching) clearInterval(this.watching.timer);
    this.watching = null;
  }

  private async reset(): Promise<void> {
    const old = this.entry!;
    const size = { cols: 100, rows: 30 };
    this.unwatch();
    this.entry = null;
    await this.hub.close(old);
    this.entry = await this.hub.open(old.lesson.id, size);
    this.hub.attach(this.entry, this);
    this.welcome();
  }

  private openPeek(): void {
    const e = this.entry!;
    const pid = e.session.state.pid;
    if (pid === null || !isAlive(pid)) {
      return this.send({ t: 'peek', open: false, reason: { en: 'There is no container process to look into yet: run clone() first.', zh: '还没有可以查看的容器进程：请先执行 clone()。' } });
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
    this.send({ t: 'peek', open: true });
  }

  // Attachment: what the hub and the session push to this tab.

  term(channel: 0 | 1, data: Buffer): void {
    this.pending[channel]!.push(data);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Several pty reads become one frame: fewer, larger WebSocket messages. */
  private flush(): void {
    this.flushScheduled = false;
    for (const channel of [CHANNEL.main, CHANNEL.peek]) {
      const chunks = this.pending[channel]!;
      this.pending[channel] = [];
      const all = Buffer.concat(chunks);
      for (let off = 0; off < all.length && this.ws.readyState === this.ws.OPEN; off += MAX_FRAME) {
        this.ws.send(frame(channel, all.subarray(off, off + MAX_FRAME)));
      }
    }
    if (this.ws.bufferedAmount > HIGH_WATER && !this.socketPaused) {
      this.socketPaused = true;
      this.applyPause();
      const poll = setInterval(() => {
        if (this.ws.readyState !== this.ws.OPEN || this.ws.bufferedAmount < LOW_WATER) {
          clearInterval(poll);
          this.socketPaused = false;
          this.applyPause();
        }
      }, 10);
    }
  }

  private applyPause(): void {
    const term = this.entry?.session.helper.term;
    if (!term) return;
    if (this.clientPaused || this.socketPaused) term.pause();
    else term.resume();
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
    if (!e || !this.metrics) return;
    if (this.metrics.sampler?.session !== e.session) this.metrics.sampler = new Metrics(e.session);
    const sample = this.metrics.sampler.sample();
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
