// The page's model of one lab session: the lesson, what every step returned, the
// kernel's latest snapshot, the tasks. Its parts live beside it: the terminals' byte
// streams (terminals.svelte.ts), the student's edited parameters (drafts.svelte.ts) and the
// live samples (live-use.svelte.ts). Components read their $state and call their methods;
// only this file and the terminals it owns talk to the socket.
import {
  CHANNEL,
  CLOSE,
  PROTOCOL_VERSION,
  type HostInfo,
  type Lesson,
  type LessonStep,
  type ExitStatus,
  type Notice,
  type Phase,
  type Rebuilt,
  type Said,
  type SeatIdle,
  type ServerMessage,
  type Snapshot,
  type PastResult,
  type StepResult,
} from './protocol.ts';
import { Drafts } from './drafts.svelte.ts';
import { LiveUse } from './live-use.svelte.ts';
import { HostViewState } from './host-view.svelte.ts';
import { validate, type Draft } from './params.ts';
import { storage } from './storage.ts';
import { prefs } from './prefs.svelte.ts';
import { LabSocket } from './socket.ts';
import { TaskState } from './task-state.svelte.ts';
import { chooseWatched } from './tasks.ts';
import { lessonComplete } from './lesson-end.ts';
import { Terminals } from './terminals.svelte.ts';
import { diffSnapshots, type SnapshotDiff } from './snapshot-diff.ts';
import { lifecycle, type Lifecycle } from './lifecycle.ts';

/** `displaced`: another tab took the session; `expired`: a workshop put the unused seat away. Either waits for the student. */
export type ConnectionStatus = 'connecting' | 'open' | 'reconnecting' | 'failed' | 'displaced' | 'expired';
export type StepStatus = 'todo' | 'running' | 'ok' | 'failed' | 'refused';

export interface ServerError extends Said {
  id: number;
  code: string;
}

/** Reconnect delays after a dropped socket; the last one repeats. */
const BACKOFF_MS = [300, 1000, 2000, 4000, 8000];
/** Give up saying "reconnecting" and explain how to get in after this many failures in a row. */
const ATTEMPTS_BEFORE_HINT = 3;
/** How long a request may take before the page greys out what cannot run meanwhile (busyShown). */
const BUSY_SHOWN_MS = 150;

export class Lab {
  status = $state<ConnectionStatus>('connecting');
  lessonId = $state('book');
  lesson = $state.raw<Lesson | null>(null);
  host = $state.raw<HostInfo | null>(null);
  /** In a workshop, what the lab knows of this student (their display name); null elsewhere. */
  you = $state.raw<{ name: string | null } | null>(null);
  /** The instructor's latest broadcast, until the student closes it. */
  notice = $state.raw<Notice | null>(null);
  private noticeClosed = 0;
  /** In a seat: whether it is about to be frozen for being unused, or is. */
  seatIdle = $state.raw<(SeatIdle & { at: number }) | null>(null);
  /** The session started at a step, not empty: the instructor's fresh seat, or a return. Until dismissed. */
  rebuilt = $state.raw<Rebuilt | null>(null);
  sessionId = $state<string | null>(null);
  /** Latest result of each lesson step, by step id. */
  results = $state.raw<Record<string, PastResult>>({});
  /**
   * A refused re-run of a step that had succeeded. Nothing ran, so the kernel is as the
   * success left it: the success stays the step's result, and the refusal is shown beside it.
   */
  refusedAgain = $state.raw<Record<string, PastResult>>({});
  snapshot = $state.raw<Snapshot | null>(null);
  phase = $state<Phase>('empty');
  /**
   * What the last step this page saw run changed in the snapshot, for the kernel panel to
   * show and mark; `seq` tells two steps apart. Null after a welcome: a reload marks nothing.
   */
  change = $state.raw<{ seq: number; diff: SnapshotDiff } | null>(null);
  private changeSeq = 0;
  /** How the container's process ended, once it has. */
  exit = $state.raw<ExitStatus | null>(null);
  /** The steps done that the server would run again now: only they offer "Run again". */
  again = $state.raw<string[]>([]);
  /** Counts the Restarts this page asked for that the server has answered: the notebook goes back to step 1 on each. */
  restarts = $state(0);
  /** The step the server says is running now. */
  running = $state<string | null>(null);
  /** A run we asked for that the server has not acknowledged yet. */
  requested = $state<string | null>(null);
  /** A rewind we asked for (the step it goes back to) that the server has not answered yet. */
  rewinding = $state<string | null>(null);
  runAllActive = $state(false);
  /** A step the student should look at: where "Run all" stopped. The notebook scrolls to it. */
  attention = $state<string | null>(null);
  /** The step whose result arrived last: its code lines are the highlighted ones. */
  lastRan = $state<string | null>(null);
  peek = $state<{ open: boolean; pending: boolean; reason: Said | null }>({ open: false, pending: false, reason: null });
  errors = $state<ServerError[]>([]);
  /** The latest result with its step number, for the aria-live sentence about it. */
  announcement = $state.raw<{ n: number; result: StepResult } | null>(null);
  /** Set when a reload found its old container gone and the server made a new one. */
  sessionReplaced = $state(false);
  /**
   * When this page asked a fresh container for its first step, and when the result that
   * finished the lesson arrived (Date.now()). Results carry a duration but no time of day,
   * so how long a lesson took is measured here, from the first Run click; a page that
   * re-attached a container already under way did not see it start and leaves both null.
   */
  startedAt = $state<number | null>(null);
  finishedAt = $state<number | null>(null);
  /** The student's edited parameters of each step. */
  readonly drafts = new Drafts();
  /** What the server last said of the lesson's tasks, and which step the student looks at. */
  readonly tasks = new TaskState();
  /** The session's cpu and memory groups, sampled by the server once a second. */
  readonly live = new LiveUse();
  /** The Host tab: what the server reads on the host while the tab is shown. */
  readonly hostView = new HostViewState();

  readonly steps: LessonStep[] = $derived(this.lesson?.steps ?? []);
  readonly doneCount = $derived(this.steps.filter((s) => this.results[s.id]?.ok).length);
  /** Every step has succeeded: the notebook ends with a summary. */
  readonly complete = $derived(lessonComplete(this.steps, this.results));
  /**
   * The first step not done yet, as the server says (course/playthrough.ts): it and the
   * steps before it may run; what Shift+Enter and "Run all" continue from.
   */
  currentStep = $state<string | null>(null);
  readonly busy = $derived(this.requested !== null || this.running !== null || this.runAllActive || this.rewinding !== null);
  /**
   * `busy` as the page shows it: buttons grey out, and "another step is running" appears
   * beside them, only once a request has taken longer than BUSY_SHOWN_MS. Most steps and a
   * rewind are answered sooner, and forty buttons going grey and back within a tenth of a
   * second is a flicker, not news (and a redraw of the whole notebook, twice). Nothing can
   * run meanwhile all the same: every action checks `busy` itself.
   */
  busyShown = $state(false);
  private busyTimer: ReturnType<typeof setTimeout> | undefined;
  readonly watchTarget: string | null = $derived(chooseWatched(this.steps, this.results, this.tasks.focused));
  /** The one lifecycle the top bar, the kernel panel, the steps and the terminal all show. */
  readonly life: Lifecycle = $derived(
    lifecycle({ phase: this.phase, results: this.results, steps: this.steps, running: this.running ?? this.requested, lastRan: this.lastRan, exit: this.exit }),
  );

  private socket: LabSocket | null = null;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private errorSeq = 0;
  private resetAsked = false;
  /** What this socket was last told to watch; undefined: nothing yet, so say it even if null. */
  private sentWatch: string | null | undefined = undefined;
  /** The container's terminal and the peek shell: bytes in, keystrokes and sizes out. */
  readonly terminals = new Terminals(() => (this.socket?.isOpen && this.status === 'open' ? this.socket : null));
  /** Called with the message each time a `result` arrives (the notebook moves focus on it). */
  onResult: ((r: StepResult) => void) | null = null;

  // ------------------------------------------------------------------ connection

  /** Open (or switch to) a lesson's session. */
  start(lessonId: string): void {
    if (this.socket && lessonId === this.lessonId) return;
    this.stop();
    this.forgetInFlight();
    // Nothing of the old lesson may linger while the new one's welcome is on its way.
    this.terminals.clear();
    this.lessonId = lessonId;
    this.lesson = null;
    this.sessionId = null;
    this.results = {};
    this.currentStep = null;
    this.refusedAgain = {};
    this.snapshot = null;
    this.phase = 'empty';
    this.change = null;
    this.exit = null;
    this.again = [];
    this.lastRan = null;
    this.attention = null;
    this.announcement = null;
    this.sessionReplaced = false;
    this.startedAt = null;
    this.finishedAt = null;
    this.rebuilt = null;
    this.seatIdle = null;
    this.tasks.focused = null;
    this.tasks.forget();
    this.live.forget();
    this.attempts = 0;
    this.drafts.restore(lessonId);
    this.connect();
  }

  private stop(): void {
    clearTimeout(this.reconnectTimer);
    this.socket?.close();
    this.socket = null;
  }

  private sessionKey(): string {
    return `stepbox.session.${this.lessonId}`;
  }

  private connect(): void {
    this.status = this.attempts === 0 ? 'connecting' : this.status;
    const socket = new LabSocket({
      open: () => {
        const main = this.terminals.helloSize();
        const session = storage()?.getItem(this.sessionKey()) ?? undefined;
        socket.send({ t: 'hello', v: PROTOCOL_VERSION, lesson: this.lessonId, ...(session ? { session } : {}), ...main });
      },
      message: (msg) => this.receive(msg),
      bytes: (channel, data) => this.terminals.output(channel, data),
      close: (code) => (code === CLOSE.displaced ? this.waitFor('displaced') : code === CLOSE.expired ? this.waitFor('expired') : this.dropped()),
    });
    this.socket = socket;
  }

  /**
   * Another tab took this session, or the workshop put the seat away. Reconnecting on our
   * own would take it back: two tabs would steal it from each other forever, and a seat put
   * away for being unused would be built again for nobody. Wait for the student to ask.
   */
  private waitFor(why: 'displaced' | 'expired'): void {
    this.forgetInFlight();
    this.seatIdle = null;
    this.status = why;
  }

  /** "Use it here" (re-attach the session the other tab has) or "Continue" (a new seat, rebuilt). */
  takeBack(): void {
    if (this.status !== 'displaced' && this.status !== 'expired') return;
    this.attempts = 0;
    this.connect();
  }

  private dropped(): void {
    this.forgetInFlight();
    this.attempts++;
    this.status = this.attempts >= ATTEMPTS_BEFORE_HINT ? 'failed' : 'reconnecting';
    const delay = BACKOFF_MS[Math.min(this.attempts - 1, BACKOFF_MS.length - 1)]!;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** A closed socket answers nothing more: no run is pending and no peek shell is open. */
  private forgetInFlight(): void {
    this.socket = null;
    this.sentWatch = undefined;
    this.hostView.sent = false;
    this.tasks.watching = null;
    this.requested = null;
    this.running = null;
    this.runAllActive = false;
    this.rewinding = null;
    this.peek = { open: false, pending: false, reason: null };
  }

  // ------------------------------------------------------------------ messages

  private receive(msg: ServerMessage): void {
    switch (msg.t) {
      case 'welcome':
        return this.welcome(msg);
      case 'running':
        this.requested = null;
        this.running = msg.stepId;
        return;
      case 'result':
        this.currentStep = msg.next;
        this.again = msg.again;
        return this.result(msg.result);
      case 'state':
        this.phase = msg.phase;
        this.snapshot = msg.snapshot;
        // Not a step: what the panel shows is no longer what the last step changed.
        this.change = null;
        this.exit = msg.exit;
        this.again = msg.again;
        return;
      case 'peek':
        this.peek = { open: msg.open, pending: false, reason: msg.open ? null : (msg.reason ?? null) };
        // The peek pty starts with a default size; ours may have been sent before it existed.
        this.terminals.sizeUnknown(CHANNEL.peek);
        if (msg.open) this.terminals.sendSize(CHANNEL.peek);
        return;
      case 'tasks':
        return this.tasksReport(msg.stepId, msg.done);
      case 'metrics':
        return this.live.add(msg.sample);
      case 'hostView':
        return void (this.hostView.view = msg.view);
      case 'notice':
        return this.showNotice(msg.notice);
      case 'idle':
        this.seatIdle = msg.idle.state === 'active' ? null : { ...msg.idle, at: Date.now() };
        return;
      case 'error':
        this.requested = null;
        this.runAllActive = false;
        this.errors = [...this.errors, { id: ++this.errorSeq, code: msg.code, en: msg.en, zh: msg.zh }];
        if (this.rewinding !== null) {
          this.rewinding = null;
          // The session stays as it was, but a server that began the rewind stopped watching its tasks.
          this.sentWatch = undefined;
          this.syncWatch();
        }
        return;
    }
  }

  private welcome(msg: Extract<ServerMessage, { t: 'welcome' }>): void {
    const asked = storage()?.getItem(this.sessionKey()) ?? null;
    // A new container has a new pty, and a re-attached one has its recent output replayed
    // by the server right after this message: either way, what the terminals show is stale.
    this.terminals.clear();
    // Only a page that hoped to re-attach and could not deserves a word about it, not a Restart.
    this.rebuilt = msg.rebuilt ?? (msg.session === this.sessionId ? this.rebuilt : null);
    if (this.resetAsked) this.restarts++;
    this.seatIdle = null;
    this.sessionReplaced = asked !== null && asked !== msg.session && !this.resetAsked && !msg.rebuilt;
    this.resetAsked = false;
    storage()?.setItem(this.sessionKey(), msg.session);
    this.status = 'open';
    this.attempts = 0;
    // Another container (a reset, or an expired session): nothing known about its tasks.
    // The same one re-attached keeps them until the server's fresh report, without a flicker.
    if (msg.session !== this.sessionId) {
      this.tasks.forget();
      this.hostView.forget();
      // What the server kept of the graphs' last minute: a reload draws the same curves.
      this.live.seed(msg.metrics);
      this.startedAt = null;
      this.finishedAt = null;
    }
    this.sessionId = msg.session;
    // After a rewind the lesson is the one on the page: keeping it spares redrawing every step's text.
    if (!(msg.rebuilt?.by === 'rewind' && this.lesson?.id === msg.lesson.id)) this.lesson = msg.lesson;
    this.host = msg.host;
    this.you = msg.you && { name: msg.you.name };
    this.showNotice(msg.you?.notice ?? null);
    const results: Record<string, PastResult> = {};
    for (const r of msg.results) if (r.stepId) results[r.stepId] = r;
    this.results = results;
    this.currentStep = msg.next;
    this.refusedAgain = {};
    this.lastRan = msg.results.at(-1)?.stepId ?? null;
    this.phase = msg.phase;
    this.snapshot = msg.snapshot;
    this.change = null;
    this.exit = msg.exit;
    this.again = msg.again;
    this.requested = null;
    this.running = null;
    this.runAllActive = false;
    this.rewinding = null;
    this.peek = { open: false, pending: false, reason: null };
    this.drafts.seed(msg.lesson);
    // The server's pty has the size hello gave, or a default after a reset: send ours again.
    this.terminals.sizeUnknown();
    this.terminals.sendSize(CHANNEL.main);
    // A new session, or a reset one, watches nothing until told.
    this.sentWatch = undefined;
    this.syncWatch();
  }

  private tasksReport(stepId: string, done: string[]): void {
    const step = this.steps.find((s) => s.id === stepId);
    if (step) this.tasks.report(step, done);
  }

  private result(r: StepResult): void {
    // What a rewind replayed is no news once another step has run.
    if (this.rebuilt?.by === 'rewind') this.rebuilt = null;
    const id = r.stepId;
    if (id) {
      const { [id]: _old, ...others } = this.refusedAgain;
      if (r.refusal && r.calls.length === 0 && this.results[id]?.ok) this.refusedAgain = { ...others, [id]: r };
      else {
        this.results = { ...this.results, [id]: r };
        this.refusedAgain = others;
      }
    }
    if (this.snapshot) this.change = { seq: ++this.changeSeq, diff: diffSnapshots({ snapshot: this.snapshot, phase: this.phase }, { snapshot: r.snapshot, phase: r.phase }) };
    this.snapshot = r.snapshot;
    this.phase = r.phase;
    if (r.phase !== 'exited') this.exit = null;
    this.lastRan = r.stepId ?? this.lastRan;
    if (this.complete && this.finishedAt === null) this.finishedAt = Date.now();
    if (this.running === r.stepId || this.requested === r.stepId) {
      this.running = null;
      this.requested = null;
    }
    this.announce(r);
    if (this.runAllActive) {
      if (r.ok) this.runNextOfAll();
      else this.stopRunAll(r.stepId ?? null);
    }
    this.onResult?.(r);
  }

  private announce(r: StepResult): void {
    this.announcement = { n: this.steps.findIndex((s) => s.id === r.stepId) + 1, result: r };
  }

  // ------------------------------------------------------------------ actions

  /** Whether step `id`'s Run button may be pressed: the server said every earlier step has succeeded. */
  unlocked(id: string): boolean {
    const at = this.steps.findIndex((s) => s.id === id);
    const next = this.currentStep === null ? this.steps.length : this.steps.findIndex((s) => s.id === this.currentStep);
    return at >= 0 && at <= next;
  }

  /** Run one step with the student's parameters, if they validate. False when it cannot run now. */
  runStep(stepId: string): boolean {
    const step = this.steps.find((s) => s.id === stepId);
    if (!step) return false;
    const params = this.drafts.of(step);
    return validate(step.kind, params, prefs.lang).ok && this.run(stepId, params);
  }

  private run(stepId: string, params: Draft): boolean {
    if (!this.socket?.isOpen || this.busy || !this.unlocked(stepId)) return false;
    this.attention = null;
    this.requested = stepId;
    this.noteStart();
    this.socket.send({ t: 'run', stepId, params });
    return true;
  }

  /**
   * Run every remaining step in order, each with the student's own parameters. The page
   * drives this one `run` at a time rather than sending `runAll`, because the server's
   * runAll uses the lesson's parameters and would ignore the student's edits.
   */
  runAll(): void {
    if (!this.socket?.isOpen || this.busy || this.currentStep === null) return;
    this.runAllActive = true;
    this.attention = null;
    this.runNextOfAll();
  }

  private runNextOfAll(): void {
    const step = this.steps.find((s) => s.id === this.currentStep);
    if (!step || !this.socket?.isOpen) return this.stopRunAll(null);
    const params = this.drafts.of(step);
    // An edit that does not validate stops the run at its step, where the problem is shown.
    if (!validate(step.kind, params, prefs.lang).ok) return this.stopRunAll(step.id);
    this.requested = step.id;
    this.noteStart();
    this.socket.send({ t: 'run', stepId: step.id, params });
  }

  /** The first run asked of a container with no result yet starts the lesson's clock. */
  private noteStart(): void {
    if (this.startedAt === null && Object.keys(this.results).length === 0) this.startedAt = Date.now();
  }

  private stopRunAll(at: string | null): void {
    this.runAllActive = false;
    this.attention = at;
  }

  reset(): void {
    if (!this.socket?.isOpen) return;
    this.requested = null;
    this.runAllActive = false;
    this.resetAsked = true;
    this.socket.send({ t: 'reset' });
  }

  /**
   * Back to a done step: the server throws the container away, builds a fresh one and runs
   * every step up to this one again, each with the parameters it last succeeded with. Its
   * welcome brings the new results; the drafts of the later steps stay as they are.
   */
  rewind(stepId: string): boolean {
    if (!this.socket?.isOpen || this.busy || !this.results[stepId]?.ok) return false;
    this.attention = null;
    this.rewinding = stepId;
    this.socket.send({ t: 'rewind', stepId });
    return true;
  }

  private showNotice(n: Notice | null): void {
    if (n && n.at > this.noticeClosed) this.notice = n;
  }

  closeNotice(): void {
    this.noticeClosed = this.notice?.at ?? this.noticeClosed;
    this.notice = null;
  }

  /** A workshop student's display name, for the instructor's dashboard. */
  setName(name: string): void {
    if (!this.socket?.isOpen) return;
    this.socket.send({ t: 'name', name });
    this.you = { name };
  }

  setPeek(open: boolean): void {
    if (!this.socket?.isOpen) return;
    if (!open) this.terminals.clearOne(CHANNEL.peek);
    this.peek = { open: this.peek.open, pending: open, reason: null };
    this.socket.send({ t: 'peek', open });
    // Closing needs no answer to be true for the page.
    if (!open) this.peek = { open: false, pending: false, reason: null };
  }

  /** Show `busy` once it has lasted BUSY_SHOWN_MS, and its end at once. Call from an effect: it reads busy. */
  syncBusyShown(): void {
    clearTimeout(this.busyTimer);
    if (!this.busy) this.busyShown = false;
    else this.busyTimer = setTimeout(() => (this.busyShown = this.busy), BUSY_SHOWN_MS);
  }

  /**
   * Tell the server which step's tasks to check, when that changed. Call from an effect:
   * it reads watchTarget, so it runs again whenever a result or the focus moves it.
   */
  syncWatch(): void {
    const target = this.watchTarget;
    if (!this.socket?.isOpen || this.status !== 'open' || target === this.sentWatch) return;
    this.sentWatch = target;
    this.tasks.watching = target;
    this.socket.send({ t: 'watch', stepId: target });
  }

  /** Tell the server whether the Host tab is shown, when that changed or the socket is new. Call from an effect. */
  syncHostView(): void {
    const shown = this.hostView.shown;
    if (!this.socket?.isOpen || this.status !== 'open' || shown === this.hostView.sent) return;
    this.hostView.sent = shown;
    this.socket.send({ t: 'hostView', open: shown });
  }

  dismissError(id: number): void {
    this.errors = this.errors.filter((e) => e.id !== id);
  }

  statusOf(id: string): StepStatus {
    if (this.running === id || this.requested === id) return 'running';
    const r = this.results[id];
    if (!r) return 'todo';
    if (r.ok) return 'ok';
    return r.refusal ? 'refused' : 'failed';
  }
}

export const lab = new Lab();
