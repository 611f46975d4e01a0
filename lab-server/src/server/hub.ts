// The sessions the web server holds, by id. A tab that closes leaves its session
// detached for a grace period: a reload re-attaches the same container and terminal;
// after it, everything is reaped.
import { randomBytes } from 'node:crypto';
import { release } from 'node:os';
import type { IPty } from 'node-pty';
import type { Lab } from '../session/lab.ts';
import type { Session } from '../session/session.ts';
import type { Lesson } from '../lessons/format.ts';
import { loadLesson } from '../lessons/load.ts';
import type { HostInfo, StepResult } from '../protocol/results.ts';
import { CONTROLLERS } from '../protocol/kernel.ts';
import { processFamily } from '../sys/proc.ts';
import { pidfdKill } from '../sys/ffi.ts';
import type { TermSize } from '../helper/client.ts';

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
}

export class Entry {
  readonly results = new Map<string, StepResult>();
  private replay: Buffer[] = [];
  private replaySize = 0;
  attachment: Attachment | null = null;
  grace: NodeJS.Timeout | null = null;
  peek: IPty | null = null;

  constructor(
    readonly id: string,
    readonly session: Session,
    readonly lesson: Lesson,
  ) {
    session.on('output', (d) => {
      this.remember(d);
      this.attachment?.term(0, d);
    });
    session.on('exit', () => this.attachment?.changed());
  }

  private remember(d: Buffer): void {
    this.replay.push(d);
    this.replaySize += d.length;
    while (this.replaySize > REPLAY_BYTES && this.replay.length > 1) this.replaySize -= this.replay.shift()!.length;
  }

  history(): Buffer {
    return Buffer.concat(this.replay);
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

export class Hub {
  private entries = new Map<string, Entry>();

  constructor(
    readonly lab: Lab,
    readonly graceSeconds: number,
  ) {}

  hostInfo(): HostInfo {
    const host = this.lab.cgroups.host;
    return {
      cgroupMode: host.mode,
      kernel: release(),
      controllers: CONTROLLERS.map((c) => {
        const home = host.homes.get(c);
        return { name: c, file: home ? (home.hierarchy.version === 2 ? (home.v2Name ?? c) : home.hierarchy.mount) : null, v2: home?.hierarchy.version === 2 };
      }),
    };
  }

  async open(lessonId: string, size: TermSize): Promise<Entry> {
    const lesson = loadLesson(lessonId);
    const session = await this.lab.open(size);
    const entry = new Entry(randomBytes(18).toString('base64url'), session, lesson);
    this.entries.set(entry.id, entry);
    return entry;
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

  attach(entry: Entry, attachment: Attachment): void {
    entry.attachment = attachment;
  }

  detach(entry: Entry, attachment: Attachment): void {
    if (entry.attachment !== attachment) return;
    entry.attachment = null;
    entry.closePeek();
    entry.grace = setTimeout(() => void this.close(entry), this.graceSeconds * 1000);
  }

  async close(entry: Entry): Promise<void> {
    if (entry.grace) clearTimeout(entry.grace);
    entry.closePeek();
    this.entries.delete(entry.id);
    await this.lab.close(entry.session);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.close(e)));
  }

  get size(): number {
    return this.entries.size;
  }
}
