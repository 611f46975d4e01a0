// One browser tab: validates each message against the protocol, runs what it asks on its
// session, and streams the terminals back with flow control.
//
// A connection can close at any moment, including while one of its requests is between two
// awaits. So: every handler starts by asking whether the tab is still there, a session
// opened for a tab that has gone is reaped at once (nobody ever learned its id), and every
// timer belongs to the connection and dies with it.
import type { WebSocket, RawData } from 'ws';
import type { TermSize } from '../helper/client.ts';
import { LessonError } from '../lessons/load.ts';
import { forPage } from '../protocol/lesson.ts';
import { lessonNotHere } from '../course/fits.ts';
import { notHere } from '../course/tasks.ts';
import { ClientMessage, CHANNEL, CLOSE, PROTOCOL_VERSION, type Channel, type Rebuilt, type SeatIdle, type ServerMessage } from '../protocol/messages.ts';
import { replayPlan, type Progress } from '../course/playthrough.ts';
import type { StepResult } from '../protocol/results.ts';
import { Metrics } from '../session/metrics.ts';
import { HostViewFeed } from '../hostview/feed.ts';
import { isAlive } from '../sys/proc.ts';
import { Declined, type Attachment, type Entry, type Hub } from './hub.ts';
import { RateLimit } from './limits.ts';
import { TerminalStream } from './terminal-stream.ts';
import { guarded, Timers } from './timers.ts';
import { expired, seatIdle } from './idle.ts';
import type { Visitor } from './app.ts';
import type { Room } from './room.ts';
import type { Notice } from '../protocol/workshop.ts';

/**
 * Past this many unsent bytes the page is not reading at all (the ptys are paused long
 * before, so only JSON piles up here): the connection is dropped, its session kept for the
 * grace period like any closed tab's.
 */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** Requests waiting behind the one being handled; a page never needs more than a few. */
const MAX_QUEUED_REQUESTS = 32;
/** A socket that has not said hello by then is not a page. */
const HELLO_TIMEOUT_MS = 10_000;
/** How often the open step's tasks are checked against the kernel. */
const TASK_CHECK_MS = 1000;
const SNAPSHOT_REFRESH_MS = 2000;
/** How often the cpu and memory groups are sampled for the page's live graphs. */
const METRICS_MS = 1000;
/** How often a seat's idleness is looked at: the page hears only when its state changes. */
const IDLE_CHECK_MS = 1000;

/** What the container is now, when it changed on its own: its end, once it has ended, and what may run again. */
function stateMessage(e: Entry, snapshot: ReturnType<Entry['session']['snapshot']>): Extract<ServerMessage, { t: 'state' }> {
  const s = e.session.state;
  return { t: 'state', phase: s.phase, snapshot, exitInfo: s.exitInfo, exit: s.exit, again: e.play.again() };
}

export class Connection implements Attachment {
  private entry: Entry | null = null;
  private closed = false;
  private busy: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Every timer of this tab, so that closing it stops them all. */
  private readonly timers = new Timers();
  private readonly stream: TerminalStream;
  /** The session-bound timers (snapshot refresh, metrics, task checks), made at the first welcome. */
  private ticking = false;
  private lastSnapshot = '';
  /** Samples the session's cpu and memory groups; made again for each new session. */
  private sampler: Metrics | null = null;
  /** The step whose tasks are being checked, and what was last said of them. */
  private watching: { stepId: string; done: string } | null = null;
  private checking = false;
  /** Each peek starts a process: a few at once, then one a second. */
  private readonly peeks = new RateLimit(4, 1);
  /** What the page was last told of its seat's idleness. */
  private idleSaid: SeatIdle['state'] | null = null;
  private expiring = false;
  /** Said in the next welcome: the new session did not start empty (a replay ran). */
  private rebuilt: Rebuilt | null = null;
  /** Set when hello arrives, before its session exists: later messages queue behind it. */
  private greeted = false;
  /** The Host tab's view, read only while the page shows the tab. */
  private readonly hostView = new HostViewFeed(
    this.timers,
    () => this.entry?.session ?? null,
    (view) => this.send({ t: 'hostView', view }),
  );

  constructor(
    private readonly ws: WebSocket,
    private readonly hub: Hub,
    /** Who opened this tab: a joined student's session follows them, not the tab. */
    private readonly visitor: Visitor,
    private readonly workshop?: Room,
  ) {
    this.stream = new TerminalStream(
      ws,
      this.timers,
      () => ({ main: this.entry?.session.helper.term ?? null, peek: this.entry?.peek ?? null }),
      (which, kib) =>
        this.send({
          t: 'error',
          code: 'input-dropped',
          // Not "press Ctrl+C": that keystroke would wait behind the rest, or be dropped too.
          en: `What you type is being dropped: the program in ${which.en} is not reading its input, and ${kib} KiB are already waiting for it. Wait for it to read them, or Restart.`,
          zh: `你输入的内容正在被丢弃：${which.zh}里的程序没有读取输入，已有 ${kib} KiB 在等它读。请等它读完，或点“重新开始”。`,
        }),
    );
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
    this.timers.after(HELLO_TIMEOUT_MS, () => this.greeted || this.policy('no hello'));
  }

  private onClose(): void {
    this.closed = true;
    this.hostView.hide();
    this.timers.clear();
    this.watching = null;
    if (this.entry) {
      this.stream.release();
      this.hub.detach(this.entry, this);
    }
    this.entry = null;
  }

  private send(msg: ServerMessage): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED) return void this.ws.terminate();
    this.ws.send(JSON.stringify(msg));
  }

  private policy(why: string): void {
    // A close reason is at most 123 bytes: printable ASCII keeps one character one byte.
    this.ws.close(1008, why.replace(/[^\x20-\x7e]/g, '?').slice(0, 120));
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
    if (!parsed.success) return this.policy(`not a stepbox message: ${whyNot(json, parsed.error.issues[0])}`);
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
    const channel = buf[0];
    if (!e || (channel !== CHANNEL.main && channel !== CHANNEL.peek)) return;
    this.stream.in(channel, buf.subarray(1), (data) => (channel === CHANNEL.main ? e.session.write(data) : e.peek?.write(data)));
  }

  private async handle(msg: ClientMessage): Promise<void> {
    if (msg.t !== 'hello' && !this.entry) {
      return this.send({ t: 'error', code: 'no-session', en: 'There is no session on this connection: reload the page.', zh: '这个连接上没有会话：请刷新页面。' });
    }
    switch (msg.t) {
      case 'hello':
        return this.hello(msg.lesson, msg.session, { cols: msg.cols, rows: msg.rows });
      case 'name': {
        const me = this.student;
        if (me) me.name = msg.name;
        return;
      }
      case 'run':
        return void (await this.run(msg.stepId, msg.params));
      case 'runAll': {
        const e = this.entry!;
        for (let id = e.play.next(); id !== null && !this.closed && this.entry === e; id = e.play.next()) {
          const r = await this.run(id);
          if (!r?.ok) break;
        }
        return;
      }
      case 'reset':
        return this.reset();
      case 'rewind':
        return this.rewind(msg.stepId);
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
        return this.stream.pageSays(msg.t === 'pause');
      case 'hostView':
        return msg.open ? this.hostView.show() : this.hostView.hide();
    }
  }

  /** The joined student this tab belongs to, in a workshop. */
  private get student() {
    return this.workshop?.student(this.visitor.student);
  }

  private async hello(lessonId: string, sessionId: string | undefined, size: TermSize): Promise<void> {
    // A student's session is theirs wherever they come back from: another tab, another
    // reload, a laptop woken from sleep. The tab's own idea of its session does not count.
    if (this.student) sessionId = this.student.entry ?? undefined;
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
    // A student whose seat was removed while they were away (--grace) gets a new one, built
    // up to where they were: the same steps with the same parameters, run again for real.
    const me = this.student;
    const progress = !old && me?.progress?.lesson === lessonId && me.progress.steps.length > 0 ? me.progress : null;
    await this.adopt(async () => {
      const entry = await this.hub.open(lessonId, size);
      if (progress) this.rebuilt = { by: me!.progressBy === 'instructor' ? 'instructor' : 'return', steps: await entry.play.replay(progress) };
      return entry;
    }, lessonId);
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
    const me = this.student;
    if (me) {
      me.entry = entry.id;
      // From now on what they do is theirs again, and what a later seat is rebuilt from.
      me.progress = entry.play.progress();
      me.progressBy = 'student';
    }
    this.hub.attach(entry, this);
    this.welcome();
    // What it printed before this tab was attached to it: a replay's steps, a shell's first prompt.
    const early = entry.history();
    if (early.length) this.term(CHANNEL.main, early);
  }

  private welcome(): void {
    const e = this.entry!;
    if (!this.ticking) {
      this.ticking = true;
      this.timers.every(SNAPSHOT_REFRESH_MS, () => this.refreshSnapshot());
      this.timers.every(METRICS_MS, () => this.sendMetrics());
      this.timers.every(TASK_CHECK_MS, () => this.checkTasks());
      // Only seats are frozen and put away when idle: a lab without them needs no watch.
      if (this.hub.lab.seated) this.timers.every(IDLE_CHECK_MS, () => this.checkIdle());
    }
    this.idleSaid = null;
    const rebuilt = this.rebuilt;
    this.rebuilt = null;
    this.stream.apply();
    this.send({
      t: 'welcome',
      v: PROTOCOL_VERSION,
      session: e.id,
      lesson: forPage(e.lesson, lessonNotHere(e.lesson, e.session.cgroups, e.session.seat !== null), (task) => notHere(e.session, task)),
      host: this.hub.hostInfo(e.session.seat?.name ?? null),
      results: [...e.play.results.values()],
      next: e.play.next(),
      again: e.play.again(),
      phase: e.session.state.phase,
      snapshot: e.session.snapshot(),
      exit: e.session.state.exit,
      metrics: e.metrics.samples(),
      graceSeconds: this.hub.graceSeconds,
      you: this.student ? { name: this.student.name, notice: this.workshop!.notice } : null,
      rebuilt,
    });
  }

  /** One step, in the lesson's order (course/playthrough.ts says what may run). */
  private async run(stepId: string, params?: Record<string, unknown>): Promise<StepResult | undefined> {
    const play = this.entry!.play;
    if (!play.step(stepId)) return void this.send({ t: 'error', code: 'no-step', en: `This lesson has no step ${stepId}.`, zh: `本课没有步骤 ${stepId}。` });
    const index = play.lesson.steps.findIndex((s) => s.id === stepId);
    const hold = this.student ? this.workshop!.holdAfter : null;
    if (hold !== null && index >= hold) {
      // Said like any refusal, and not kept: once released, the same click runs the step.
      const refusal = { code: 'held', en: `The instructor asked the room to wait after step ${hold}: this step runs once they say go.`, zh: `讲师请大家在第 ${hold} 步之后稍等：等讲师说开始，这一步就能运行。` };
      const result = this.entry!.session.refused(play.step(stepId)!.kind, refusal, stepId);
      this.send({ t: 'result', result, next: play.next(), again: play.again() });
      return result;
    }
    this.send({ t: 'running', stepId });
    const result = (await play.run(stepId, params))!;
    if (this.student && result.ok) this.student.progress = play.progress();
    this.send({ t: 'result', result, next: play.next(), again: play.again() });
    return result;
  }

  /** While a step is open on the page, ask the kernel about its tasks once a second. */
  private watch(stepId: string | null): void {
    const step = this.entry!.lesson.steps.find((s) => s.id === stepId);
    this.watching = step && step.tasks.length > 0 ? { stepId: step.id, done: '-' } : null;
    if (!this.watching) return;
    guarded(() => this.checkTasks());
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
    this.checking = true;
    try {
      const done = await e.play.tasksDone(w.stepId);
      const key = done.join(' ');
      if (this.watching === w && this.entry === e && w.done !== key) {
        w.done = key;
        // Kept with the steps: a seat removed later is rebuilt with its tasks counted.
        const me = this.student;
        if (me?.entry === e.id) me.progress = e.play.progress();
        this.send({ t: 'tasks', stepId: w.stepId, done });
      }
    } finally {
      this.checking = false;
    }
  }

  private unwatch(): void {
    this.watching = null;
  }

  /**
   * A clean session for the same lesson; with a plan (the instructor's fresh seat, up to a
   * step or none; the student's rewind), its steps run in it before the page hears of it.
   * Either way the student's progress becomes the new session's (adopt): nothing of the old
   * steps is replayed later. A rewind's welcome says how long all of it took.
   */
  private async reset(plan?: Progress, by: Rebuilt['by'] = 'instructor'): Promise<void> {
    const old = this.entry!;
    const t0 = performance.now();
    this.unwatch();
    // Until the hub agrees to a new session the old one stays: a refused reset loses nothing.
    await this.adopt(async () => {
      let entry: Entry;
      try {
        entry = await this.hub.open(old.lesson.id, { cols: 100, rows: 30 }, old, by === 'rewind');
      } finally {
        if (!this.hub.holds(old)) this.entry = null;
      }
      if (plan) {
        const steps = plan.steps.length ? await entry.play.replay(plan) : 0;
        this.rebuilt = { by, steps, ...(by === 'rewind' ? { rewind: { asked: plan.steps.length, ms: Math.round(performance.now() - t0) } } : {}) };
      }
      return entry;
    }, old.lesson.id);
  }

  /**
   * Back to a step the student has done: what Restart does (the same reap of everything the
   * old container had, the same fresh session), then the steps up to that one run again for
   * real, each with the parameters it last succeeded with. Queued like every request, so it
   * never runs beside a step, a reset or another rewind of this tab.
   */
  private rewind(stepId: string): Promise<void> | void {
    const play = this.entry!.play;
    const step = play.step(stepId);
    if (!step) return this.send({ t: 'error', code: 'no-step', en: `This lesson has no step ${stepId}.`, zh: `本课没有步骤 ${stepId}。` });
    const plan = play.rewindPlan(stepId);
    if (!plan) {
      return this.send({
        t: 'error',
        code: 'not-done',
        en: `"${step.title.en}" is not done in this container (refused, failed or not run yet): you can only go back to a step that succeeded, with every step before it.`,
        zh: `在这个容器里“${step.title.zh}”还没有完成（被拒绝、失败或尚未运行）：只能回到一个已经成功、且之前每一步都成功的步骤。`,
      });
    }
    return this.reset(plan, 'rewind');
  }

  /**
   * Tell the page when its seat is about to be frozen, is frozen, or is in use again; in a
   * workshop, put away a seat nobody used for --seat-expire, its student's progress kept
   * for when they come back (as a seat removed after the grace is).
   */
  private checkIdle(): void {
    const e = this.entry;
    if (!e?.session.seat) return;
    const rules = this.hub.idleRules;
    if (this.student && expired(e.session.idleMs, rules)) {
      if (!this.expiring) {
        this.expiring = true;
        void this.queue(() => this.expire(e)).finally(() => (this.expiring = false));
      }
      return;
    }
    const idle = seatIdle(e.session.idleMs, e.session.isFrozen, rules);
    if (idle.state === this.idleSaid) return;
    this.idleSaid = idle.state;
    this.send({ t: 'idle', idle });
  }

  private async expire(e: Entry): Promise<void> {
    const me = this.student;
    if (this.entry !== e || !me || !expired(e.session.idleMs, this.hub.idleRules)) return;
    me.progress = e.play.progress();
    me.progressBy = 'student';
    me.entry = null;
    this.unwatch();
    this.stream.release();
    this.entry = null;
    console.log(`[stepbox] ${e.session.seat?.name ?? e.session.name} unused for ${Math.round(e.session.idleMs / 60_000)} min: put away, its progress kept`);
    this.ws.close(CLOSE.expired, 'the seat was put away after being unused');
    await this.hub.close(e);
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
    const p = e.session.peek(pid, { cols: 100, rows: 30 });
    e.peek = p;
    p.onData((d) => this.term(CHANNEL.peek, Buffer.isBuffer(d) ? d : Buffer.from(d)));
    p.onExit(() => {
      if (e.peek !== p) return;
      e.peek = null;
      this.peekClosed();
    });
    this.stream.apply();
    this.send({ t: 'peek', open: true });
  }

  // Attachment: what the hub and the session push to this tab.

  term(channel: Channel, data: Buffer): void {
    this.stream.out(channel, data);
  }

  /** Send the snapshot again when the running container changed it (a mount, a new process's cgroup). */
  private refreshSnapshot(): void {
    const e = this.entry;
    if (!e || e.session.state.phase !== 'running') return;
    const snapshot = e.session.snapshot();
    const key = JSON.stringify(snapshot);
    if (key === this.lastSnapshot) return;
    this.lastSnapshot = key;
    this.send(stateMessage(e, snapshot));
  }

  /** While the session has a cpu or memory group, one sample a second for the live graphs. */
  private sendMetrics(): void {
    const e = this.entry;
    if (!e) return;
    if (this.sampler?.session !== e.session) this.sampler = new Metrics(e.session);
    const sample = this.sampler.sample();
    if (!sample) return;
    e.metrics.add(sample);
    this.send({ t: 'metrics', sample });
  }

  changed(): void {
    const e = this.entry;
    if (e) this.send(stateMessage(e, e.session.snapshot()));
  }

  peekClosed(): void {
    this.send({ t: 'peek', open: false });
  }

  displaced(): void {
    this.unwatch();
    this.entry = null;
    this.ws.close(CLOSE.displaced, 'this session was opened in another tab');
  }

  notice(notice: Notice): void {
    this.send({ t: 'notice', notice });
  }

  resetByInstructor(upTo: number): Promise<void> {
    return this.queue(() => {
      const e = this.entry;
      return e ? this.reset(replayPlan(e.lesson, e.play.progress(), upTo)) : undefined;
    });
  }

  /** Work from outside the tab, queued like the tab's own requests: it never runs between two awaits of one of them. */
  private queue(work: () => Promise<void> | undefined): Promise<void> {
    this.queued++;
    const done = this.busy.then(() => (this.closed ? undefined : work())).finally(() => this.queued--);
    this.busy = done.catch(() => undefined);
    return done;
  }
}

/** What was wrong with a message, in a few words for the close reason: its type, the field, zod's word. */
function whyNot(json: unknown, issue: { path: PropertyKey[]; message: string } | undefined): string {
  const t = typeof json === 'object' && json !== null && 't' in json && typeof json.t === 'string' && /^[A-Za-z]{1,20}$/.test(json.t) ? json.t : null;
  const field = issue?.path.map(String).join('.') ?? '';
  return `${t ?? 'no known t'}${field ? `.${field}` : ''}: ${issue?.message ?? 'invalid'}`;
}
