// The sessions the web server holds, by id. A tab that closes leaves its session
// detached for a grace period: a reload re-attaches the same container and terminal;
// after it, everything is reaped. The hub also says no: to more sessions than the
// machine is set up for, and to new sessions asked for faster than it should make them.
import { randomBytes } from 'node:crypto';
import { release } from 'node:os';
import type { IPty } from 'node-pty';
import type { Lab } from '../session/lab.ts';
import type { Session } from '../session/session.ts';
import { Playthrough } from '../course/playthrough.ts';
import type { Lesson } from '../protocol/lesson.ts';
import { loadLesson } from '../lessons/load.ts';
import type { HostInfo } from '../protocol/results.ts';
import type { Notice } from '../protocol/workshop.ts';
import { CONTROLLERS } from '../protocol/kernel.ts';
import { processFamily } from '../sys/proc.ts';
import { pidfdKill } from '../sys/ffi.ts';
import type { TermSize } from '../helper/client.ts';
import { History } from './history.ts';
import { MetricsLog } from './metrics-log.ts';
import type { MirrorSink } from './mirror.ts';
import type { IdleRules } from './idle.ts';
import { RateLimit } from './limits.ts';

/** Enough terminal history to redraw a screen after a reload, not a log of everything. */
const REPLAY_BYTES = 256 * 1024;

export interface Attachment {
  /** Send terminal bytes to the page. */
  term(channel: 0 | 1, data: Buffer): void;
  /** Tell the page the container changed on its own. */
  changed(): void;
  peekClosed(): void;
  /** Another tab took this session over. */
  displaced(): void;
  /** A workshop's instructor speaks to the room. */
  notice(notice: Notice): void;
  /**
   * The instructor gave this student a fresh seat: the tab does what its Restart would, then
   * runs the lesson's first `upTo` steps again.
   */
  resetByInstructor(upTo: number): Promise<void>;
}

export class Entry {
  private readonly replay = new History(REPLAY_BYTES);
  attachment: Attachment | null = null;
  grace: NodeJS.Timeout | null = null;
  /** When the last tab let go of it: the longest-detached session is the first to go. */
  detachedAt = 0;
  peek: IPty | null = null;
  /** Read-only views of the terminal (server/mirror.ts): a workshop's instructor. */
  readonly mirrors = new Set<MirrorSink>();
  /** The live graphs' last minute, for a tab that reloads. */
  readonly metrics = new MetricsLog();

  constructor(
    readonly id: string,
    /** The lesson as this session plays it: its results, its order, its tasks. */
    readonly play: Playthrough,
  ) {
    const session = play.session;
    session.on('output', (d) => {
      this.replay.push(d);
      this.attachment?.term(0, d);
      for (const m of this.mirrors) m.data(d);
    });
    session.on('exit', () => this.attachment?.changed());
  }

  get session(): Session {
    return this.play.session;
  }

  get lesson(): Lesson {
    return this.play.lesson;
  }

  history(): Buffer {
    return this.replay.bytes();
  }

  closePeek(): void {
    const p = this.peek;
    this.peek = null;
    if (p) for (const child of processFamily(p.pid)) pidfdKill(child);
    try {
      p?.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A session the hub would not open, with the reason in the student's words. */
export class Declined extends Error {
  constructor(
    readonly code: string,
    readonly en: string,
    readonly zh: string,
  ) {
    super(en);
  }
}

export interface HubOptions {
  graceSeconds: number;
  /** Sessions at once, attached or in their grace period. */
  maxSessions: number;
  /** A seat nobody used this long is put away even while its tab is open; 0 or unset: never. */
  seatExpireMs?: number;
}

export class Hub {
  private entries = new Map<string, Entry>();
  /** Sessions being opened right now: they count against the cap before they exist. */
  private opening = 0;
  private readonly rate: RateLimit;
  readonly graceSeconds: number;
  readonly maxSessions: number;
  /** When an idle seat is frozen (the engine does it) and put away (its tab does it). */
  readonly idleRules: IdleRules;

  constructor(
    readonly lab: Lab,
    opts: HubOptions,
  ) {
    this.graceSeconds = opts.graceSeconds;
    this.maxSessions = opts.maxSessions;
    this.idleRules = { freezeMs: lab.seatIdleMs, expireMs: opts.seatExpireMs ?? 0 };
    // New sessions (hello or reset): a burst of a room's worth (and never less than a few
    // reloads), then four a second.
    this.rate = new RateLimit(Math.max(8, opts.maxSessions), 4);
  }

  hostInfo(seat: string | null): HostInfo {
    const host = this.lab.cgroups.host;
    return {
      seat,
      cgroupMode: host.mode,
      kernel: release(),
      controllers: CONTROLLERS.map((c) => {
        const home = host.homes.get(c);
        return { name: c, file: home ? (home.hierarchy.version === 2 ? (home.v2Name ?? c) : home.hierarchy.mount) : null, v2: home?.hierarchy.version === 2 };
      }),
    };
  }

  /**
   * A new session for a lesson; `replacing` (a reset) is reaped first, once the new one is
   * sure to be allowed. Throws LessonError or Declined before anything is made.
   *
   * `rewinding`: the same lesson plays again in the new session, as it was loaded for the old
   * one (reading and parsing it again can take longer than building the container), and the
   * old session's reap goes on while the new one is built: its processes are killed at once,
   * and what it waits for (the kernel freeing its cgroups and mounts) is not in the student's
   * way. Nothing is shared: every name the new session makes is its own. In a seat the reap
   * is waited for still, so that the new session takes the same seat back.
   */
  async open(lessonId: string, size: TermSize, replacing?: Entry, rewinding = false): Promise<Entry> {
    const lesson = rewinding && replacing?.lesson.id === lessonId ? replacing.lesson : loadLesson(lessonId);
    if (!replacing && this.idle() === undefined && this.entries.size + this.opening >= this.maxSessions) {
      throw new Declined(
        'full',
        `The lab already runs ${this.maxSessions} sessions, as many as it is set up for (stepbox serve --max-sessions): close a tab you no longer use, or wait for one to end.`,
        `实验室已经在运行 ${this.maxSessions} 个会话，达到了设定的上限（stepbox serve --max-sessions）：请关闭不用的标签页，或等其中一个结束。`,
      );
    }
    if (!this.rate.take()) {
      throw new Declined(
        'too-fast',
        `New sessions are being asked for faster than the lab makes them (at most ${this.rate.perSecond} a second): wait a moment and try again.`,
        `新会话的请求太快了（每秒最多 ${this.rate.perSecond} 个）：请稍等片刻再试。`,
      );
    }
    let session: Session;
    this.opening++;
    try {
      if (replacing) {
        const reaped = this.close(replacing);
        if (!rewinding || this.lab.seated) await reaped;
      }
      // Over the cap (counting this one), the session detached longest gives way, and is
      // gone before the new one is made.
      const idle = this.entries.size + this.opening > this.maxSessions ? this.idle() : undefined;
      if (idle) await this.close(idle);
      session = await this.lab.open(size);
    } finally {
      this.opening--;
    }
    const entry = new Entry(randomBytes(18).toString('base64url'), new Playthrough(lesson, session));
    this.entries.set(entry.id, entry);
    return entry;
  }

  /** The session whose tab let go of it longest ago, if any has none. */
  private idle(): Entry | undefined {
    let oldest: Entry | undefined;
    for (const e of this.entries.values()) if (!e.attachment && (!oldest || e.detachedAt < oldest.detachedAt)) oldest = e;
    return oldest;
  }

  /** A detached (or displaced) session, for a page that reloads. */
  take(id: string, attachment: Attachment): Entry | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.grace) clearTimeout(entry.grace);
    entry.grace = null;
    if (entry.attachment && entry.attachment !== attachment) entry.attachment.displaced();
    entry.attachment = attachment;
    return entry;
  }

  /** A session by id, attached or not, without taking it. */
  find(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  /** Every session attached to a tab now. */
  attached(): Attachment[] {
    return [...this.entries.values()].flatMap((e) => (e.attachment ? [e.attachment] : []));
  }

  /** Sessions the hub may still open before it is full. */
  get free(): number {
    return Math.max(0, this.maxSessions - this.entries.size - this.opening);
  }

  holds(entry: Entry): boolean {
    return this.entries.get(entry.id) === entry;
  }

  attach(entry: Entry, attachment: Attachment): void {
    entry.attachment = attachment;
  }

  detach(entry: Entry, attachment: Attachment): void {
    if (entry.attachment !== attachment) return;
    entry.attachment = null;
    entry.detachedAt = performance.now();
    entry.closePeek();
    entry.grace = setTimeout(() => void this.close(entry), this.graceSeconds * 1000);
  }

  /** Reap a session. Never rejects: a reap that fails is said on stderr, and the next start's reapAll is the second net. */
  async close(entry: Entry): Promise<void> {
    if (entry.grace) clearTimeout(entry.grace);
    entry.grace = null;
    // A session being reaped says nothing more to its tab: its processes dying is not news
    // to a tab that asked for a new container (reset, rewind) or went away.
    entry.attachment = null;
    entry.closePeek();
    for (const m of entry.mirrors) m.end();
    entry.mirrors.clear();
    this.entries.delete(entry.id);
    try {
      await this.lab.close(entry.session);
    } catch (e) {
      console.error(`[stepbox] reaping ${entry.session.name} failed: ${(e as Error).stack ?? e}`);
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.close(e)));
  }

  get size(): number {
    return this.entries.size;
  }
}
