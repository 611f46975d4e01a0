// The engine as one object: what this machine's cgroups look like, the sessions it runs,
// and the promise that every one of them is reaped.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroups } from '../cgroup/detect.ts';
import { CgroupTree } from '../cgroup/tree.ts';
import { Helper, type TermSize } from '../helper/client.ts';
import { imageExists } from '../rootfs/images.ts';
import { poolDir, RUNTIME_DIR, sessionName } from './paths.ts';
import { reapAll } from './reap.ts';
import { Session } from './session.ts';
import { MAX_SEATS, type SeatLimits } from './seat.ts';
import { claimIdRegion, type IdRegion } from './id-region.ts';

export interface LabOptions {
  image?: string;
  /** A path inside every cgroup hierarchy to put sessions under, instead of `<own>/stepbox`. */
  cgroupParent?: string;
  idmapBase?: number;
  /**
   * Helpers kept spawned ahead of time, so that a session opens without waiting for one
   * (spawning on a pty and connecting is most of what opening costs). 0 by default;
   * `stepbox serve` keeps one.
   */
  warm?: number;
  /**
   * Every session in a seat of its own, with these limits (a shared machine); a seat nobody
   * has used for `idleMs` is frozen until its student comes back (0: never).
   */
  seats?: { limits: SeatLimits; scratchMiB: number; idleMs?: number };
}

/** The size a waiting helper's pty starts with; the session that takes it resizes it. */
const WARM_SIZE: TermSize = { cols: 100, rows: 30 };
/**
 * A taken helper is replaced a little later, not at once: spawning one (fork, exec, a pty)
 * takes the CPU for ~10 ms, just when the new session runs its first steps and the page
 * draws it (a rewind replays fourteen steps and redraws the notebook within ~100 ms).
 */
const REFILL_DELAY_MS = 500;

export class Lab {
  readonly cgroups: CgroupTree;
  readonly image: string;
  private sessions = new Set<Session>();
  private counter = 0;
  private readonly warm: Helper[] = [];
  private readonly warmSize: number;
  private warmed = 0;
  private filling: Promise<void> | null = null;
  private refill: NodeJS.Timeout | null = null;
  private closing = false;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Seat slots in use, by live sessions (and sessions still being reaped). */
  private readonly slots = new Set<number>();
  /** The block of ids this lab's seats take theirs from, held while it runs. */
  private idRegion: IdRegion | null = null;

  private constructor(private readonly opts: LabOptions) {
    this.cgroups = new CgroupTree(detectCgroups(), opts.cgroupParent);
    this.image = opts.image ?? 'busybox';
    this.warmSize = opts.warm ?? 0;
    const idle = opts.seats?.idleMs ?? 0;
    // Looked at a few times per idle period, at most every 15 s: freezing is not urgent.
    if (idle > 0) this.idleTimer = setInterval(() => this.freezeIdle(idle), Math.min(15_000, Math.max(100, idle / 4))).unref();
  }

  private freezeIdle(idleMs: number): void {
    for (const s of this.sessions) if (s.freezeIfIdle(idleMs)) console.log(`[stepbox] ${s.seat!.name} idle for ${Math.round(idleMs / 1000)} s: frozen until its student is back`);
  }

  /** Start the engine: reap what a killed server left behind first. */
  static async start(opts: LabOptions = {}): Promise<Lab> {
    if (process.getuid?.() !== 0) throw new Error('stepbox must run as root: it creates namespaces, cgroups and mounts');
    const lab = new Lab(opts);
    if (!imageExists(lab.image)) throw new Error(`the ${lab.image} image is not built: run sh rootfs-images/build.sh ${lab.image}`);
    await reapAll(lab.cgroups);
    if (opts.seats) lab.idRegion = await claimIdRegion();
    mkdirSync(RUNTIME_DIR, { recursive: true, mode: 0o711 });
    chmodSync(RUNTIME_DIR, 0o711);
    await lab.fillPool();
    return lab;
  }

  async open(size: TermSize = WARM_SIZE): Promise<Session> {
    const seats = this.opts.seats;
    const seat = seats && { slot: this.freeSlot(), region: this.idRegion!.region, ...seats };
    if (seat) this.slots.add(seat.slot);
    let session: Session;
    try {
      session = await Session.open({ name: sessionName(++this.counter), image: this.image, cgroups: this.cgroups, size, idmapBase: this.opts.idmapBase, seat }, this.takeWarm());
    } catch (e) {
      if (seat) this.slots.delete(seat.slot);
      throw e;
    }
    this.sessions.add(session);
    if (this.warmSize > 0 && !this.refill && !this.closing) {
      this.refill = setTimeout(() => {
        this.refill = null;
        void this.fillPool();
      }, REFILL_DELAY_MS);
    }
    return session;
  }

  /** A seat nobody used this long is frozen; 0: never (or no seats). */
  get seatIdleMs(): number {
    return this.opts.seats?.idleMs ?? 0;
  }

  /** Whether every session runs in a seat of its own. */
  get seated(): boolean {
    return this.opts.seats !== undefined;
  }

  /** The lowest seat slot no live session holds: slots pick ids and cgroup names, so they are reused. */
  private freeSlot(): number {
    let slot = 0;
    while (this.slots.has(slot)) slot++;
    if (slot >= MAX_SEATS) throw new Error(`a lab holds at most ${MAX_SEATS} seats at once: the ids of its region are all in use`);
    return slot;
  }

  private takeWarm(): Helper | undefined {
    for (let h = this.warm.shift(); h; h = this.warm.shift()) if (h.alive) return h;
    return undefined;
  }

  /** Spawn helpers until the pool is full again; one filling at a time. Never rejects. */
  private fillPool(): Promise<void> {
    const size = this.warmSize;
    if (this.filling || this.closing || this.warm.length >= size) return this.filling ?? Promise.resolve();
    this.filling = (async () => {
      mkdirSync(poolDir(), { recursive: true, mode: 0o700 });
      while (!this.closing && this.warm.length < size) this.warm.push(await Helper.start(join(poolDir(), `ctl-${++this.warmed}.sock`), WARM_SIZE));
    })()
      .catch((e: Error) => console.error(`[stepbox] could not spawn a helper ahead of time: ${e.message}`))
      .finally(() => (this.filling = null));
    return this.filling;
  }

  /** A session stays listed until its reap is done, so shutdown waits for every reap under way. */
  async close(session: Session): Promise<void> {
    try {
      await session.reap();
    } finally {
      this.sessions.delete(session);
      if (session.seat) this.slots.delete(session.seat.slot);
    }
  }

  async shutdown(): Promise<void> {
    this.closing = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    if (this.refill) clearTimeout(this.refill);
    await this.filling;
    for (const h of this.warm.splice(0)) h.kill();
    rmSync(poolDir(), { recursive: true, force: true });
    await Promise.all([...this.sessions].map((s) => this.close(s)));
    await reapAll(this.cgroups);
    await this.idRegion?.release();
  }
}
