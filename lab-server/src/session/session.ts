// One container under construction: the helper, its state, its cgroups and its rootfs.
// Steps run one at a time, in the order they arrive.
import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { CgroupTree } from '../cgroup/tree.ts';
import { Helper, HelperGone, spawnPty, type TermSize } from '../helper/client.ts';
import type { IPty } from 'node-pty';
import type { Call, Refusal, StepResult } from '../protocol/results.ts';
import { StepParams, type StepRequest } from '../protocol/steps.ts';
import { imageDir, shiftedImage } from '../rootfs/images.ts';
import { STEPS } from '../steps/index.ts';
import { succeeded, type StepCtx, type StepOutcome } from '../steps/step.ts';
import { deleteLink } from '../net/links.ts';
import { MNT_DETACH, mount, pidfdKill, umount2 } from '../sys/ffi.ts';
import { isAlive, nspid, processFamily } from '../sys/proc.ts';
import { record } from '../sys/record.ts';
import { observe, type Look } from './observe.ts';
import { detachLoops } from './reap.ts';
import { sessionDir } from './paths.ts';
import { buildSeat, seatGroup, seatIds, type Seat, type SeatSpec } from './seat.ts';
import { emptyState, refusal, type State } from '../steps/state.ts';

export interface SessionOptions {
  name: string;
  image: string;
  cgroups: CgroupTree;
  size: TermSize;
  idmapBase?: number;
  /** Run the session in a seat of its own (a shared machine): see seat.ts. */
  seat?: SeatSpec;
}

export interface SessionEvents {
  /** Bytes from the pty: the helper's trace, then the container's shell. */
  output: [Buffer];
  /** The container process or the helper ended. */
  exit: [string];
}


export class Session extends EventEmitter<SessionEvents> {
  readonly state: State = emptyState();
  readonly dir: string;
  readonly rootfs: string;
  private queue: Promise<unknown> = Promise.resolve();
  /** The one reap of this session, once begun: a second caller waits for the same one. */
  private reaping: Promise<void> | null = null;
  /** The seat the session runs in, once built. */
  seat: Seat | null = null;
  /** When the student last did something here (a step, a key, a peek): performance.now(). */
  private lastActive = performance.now();
  /** The seat is frozen (idle): see freezeIfIdle(). */
  private frozen = false;
  /** Where the lesson's groups go: in the seat's group when there is a seat. */
  readonly cgroups: CgroupTree;

  private constructor(
    private readonly opts: SessionOptions,
    readonly helper: Helper,
  ) {
    super();
    this.dir = sessionDir(opts.name);
    this.rootfs = join(this.dir, 'rootfs');
    this.cgroups = opts.seat ? opts.cgroups.under(seatGroup(opts.seat.slot)) : opts.cgroups;
    helper.term.onData((d) => this.emit('output', Buffer.isBuffer(d) ? d : Buffer.from(d)));
    helper.on('exit', (e) => {
      if (e.pid !== this.state.pid) return;
      this.state.phase = 'exited';
      this.state.exitInfo = e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
      this.state.exit = { code: e.signal ? null : e.code, signal: e.signal };
      this.emit('exit', this.state.exitInfo);
    });
    helper.on('gone', () => {
      if (this.state.phase === 'exited') return;
      this.state.phase = 'exited';
      this.state.exitInfo = 'the helper exited';
      this.state.exit = { code: null, signal: null };
      this.emit('exit', this.state.exitInfo);
    });
  }

  get name(): string {
    return this.opts.name;
  }

  /** A new session, with a helper spawned now or one that was waiting (`warm`). */
  static async open(opts: SessionOptions, warm?: Helper): Promise<Session> {
    const dir = sessionDir(opts.name);
    // 0711: container root in a user namespace is an ordinary uid on the host and must be
    // able to reach its rootfs below here; nobody but root may list or open the rest.
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    let session: Session;
    try {
      if (warm) warm.term.resize(opts.size.cols, opts.size.rows);
      session = new Session(opts, warm ?? (await Helper.start(join(dir, 'ctl.sock'), opts.size)));
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    if (opts.seat) {
      try {
        session.seat = await buildSeat(session.helper, opts.cgroups, dir, opts.seat);
      } catch (e) {
        await session.reap();
        throw e;
      }
    }
    return session;
  }

  /**
   * An idle seat is frozen (the cgroup freezer): its processes hold their memory and take no
   * CPU until the student comes back, and everything they had is there when they do.
   * True if it froze now.
   */
  freezeIfIdle(idleMs: number): boolean {
    if (!this.seat || this.frozen || this.reaping || performance.now() - this.lastActive < idleMs) return false;
    const call = this.opts.cgroups.freeze(this.seat.group, true);
    this.frozen = call.ret === 0;
    return this.frozen;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  /** Milliseconds since the student last did something here. */
  get idleMs(): number {
    return performance.now() - this.lastActive;
  }

  /** The student is here: thaw the seat first, if it was frozen. */
  private active(): void {
    this.lastActive = performance.now();
    if (!this.frozen || !this.seat) return;
    this.frozen = this.opts.cgroups.freeze(this.seat.group, false).ret !== 0;
  }

  /**
   * Run one step; steps never overlap, even when a page sends two clicks at once. `look`:
   * which parts of the kernel's state the result's snapshot reads (observe.ts).
   */
  run(req: StepRequest, stepId?: string, look: Look = 'all'): Promise<StepResult> {
    this.active();
    const next = this.queue.then(() => this.runNow(req, stepId, look));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Whether the step would be refused if asked now, without running anything: the same
   * check run() makes first. Parameters that do not validate count as refused.
   */
  wouldRefuse(req: StepRequest): boolean {
    if (this.reaping) return true;
    const parsed = StepParams[req.kind].safeParse(req.params);
    if (!parsed.success) return true;
    return (STEPS[req.kind].refuse as (p: unknown, c: StepCtx) => Refusal | null)(parsed.data, this.ctx()) !== null;
  }

  /** A result for a step that did not run, with the kernel's current state. */
  refused(kind: StepRequest['kind'], refusal: Refusal, stepId?: string): StepResult {
    return this.result(kind, stepId, { calls: [] }, 0, refusal);
  }

  private result(kind: StepRequest['kind'], stepId: string | undefined, outcome: StepOutcome, ms: number, refusal?: Refusal, look: Look = 'all'): StepResult {
    return {
      kind,
      stepId,
      ok: !refusal && succeeded(outcome),
      calls: outcome.calls,
      refusal,
      error: outcome.error,
      notes: outcome.notes ?? [],
      checks: [],
      snapshot: this.snapshot(look),
      phase: this.state.phase,
      ms,
    };
  }

  private async runNow(req: StepRequest, stepId: string | undefined, look: Look): Promise<StepResult> {
    const t0 = performance.now();
    const finish = (outcome: StepOutcome, refused?: Refusal) => this.result(req.kind, stepId, outcome, performance.now() - t0, refused, look);
    if (this.reaping) return finish({ calls: [] }, refusal('reaped', 'This session has ended.', '这个会话已经结束。'));
    const parsed = StepParams[req.kind].safeParse(req.params);
    if (!parsed.success) {
      const why = z.prettifyError(parsed.error).replace(/\n/g, ' ');
      return finish({ calls: [] }, refusal('bad-params', `These parameters are not valid for ${req.kind}: ${why}`, `${req.kind} 的参数无效：${why}`));
    }
    const step = STEPS[req.kind] as (typeof STEPS)[typeof req.kind];
    const ctx = this.ctx();
    // The union of step modules cannot be narrowed by TypeScript here; each was validated above.
    const refused = (step.refuse as (p: unknown, c: StepCtx) => Refusal | null)(parsed.data, ctx);
    if (refused) return finish({ calls: [] }, refused);
    try {
      return finish(await (step.run as (p: unknown, c: StepCtx) => Promise<StepOutcome>)(parsed.data, ctx));
    } catch (e) {
      if (e instanceof HelperGone) return finish({ calls: [], error: 'the helper has exited' }, refusal('helper-gone', 'The helper process has exited (was it killed?): restart the lab.', '辅助进程已经退出（被杀掉了吗？）：请重新开始。'));
      return finish({ calls: [], error: String((e as Error).message ?? e) });
    }
  }

  private ctx(): StepCtx {
    return {
      state: this.state,
      helper: this.helper,
      cgroups: this.cgroups,
      session: this.opts.name,
      seat: this.seat,
      rootfs: this.rootfs,
      idmapBase: this.opts.idmapBase ?? 100000,
      mountRoot: (shift) => this.mountRoot(shift),
    };
  }

  /** The session's copy-on-write root: the image as the lower layer, a fresh upper on tmpfs. */
  private mountRoot(shift: number | null): Call[] {
    // A clone that failed after this mount left it in place: a second try (maybe now with a
    // user namespace, so another lower layer) replaces it instead of stacking one more.
    const undo = this.state.rootMounted ? [record(`umount2("${this.rootfs}", MNT_DETACH)`, `umount -l ${this.rootfs}`, () => umount2(this.rootfs, MNT_DETACH))] : [];
    if (undo[0]?.ret === 0) this.state.rootMounted = false;
    // In a seat, ids are the seat's: its root is an ordinary uid on the host, so the image
    // is shifted to the seat's range even without a user namespace of the container's own.
    const hostShift = this.opts.seat ? seatIds(this.opts.seat.slot, this.opts.seat.region) + (shift ?? 0) : shift;
    const lower = hostShift === null ? imageDir(this.opts.image) : shiftedImage(this.opts.image, hostShift);
    const upper = join(this.dir, 'upper');
    const work = join(this.dir, 'work');
    for (const d of [upper, work, this.rootfs]) mkdirSync(d, { recursive: true, mode: 0o755 });
    // Container root owns the top of its tree, so it can write in / and /root.
    if (hostShift !== null) chownSync(upper, hostShift, hostShift);
    const data = `lowerdir=${lower},upperdir=${upper},workdir=${work}`;
    const call = record(`mount("overlay", "${this.rootfs}", "overlay", 0, "${data}")`, `mount -t overlay overlay -o ${data} ${this.rootfs}`, () => mount('overlay', this.rootfs, 'overlay', 0, data));
    if (call.ret >= 0) this.state.rootMounted = true;
    return [...undo, call];
  }

  snapshot(look: Look = 'all') {
    // In a seat, "the host" whose namespaces a container shares or not is the seat.
    return observe(this.state, this.cgroups, this.opts.name, this.seat ? { helper: this.helper.pid, idBase: this.seat.idBase } : undefined, look);
  }

  /**
   * A shell joined to the container's namespaces (stepper peek). In a seat it starts in the
   * seat's cgroup, so that what it runs counts against the seat's limits like the rest.
   */
  peek(pid: number, size: TermSize): IPty {
    this.active();
    const env: Record<string, string> = this.seat ? { STEPBOX_CGROUP_PROCS: this.opts.cgroups.under(this.seat.group).procsFiles(this.seat.leaf).join(':') } : {};
    return spawnPty(['peek', String(pid)], size, env);
  }

  write(data: string | Buffer): void {
    this.active();
    if (!this.reaping) this.helper.term.write(data);
  }

  resize(size: TermSize): void {
    if (!this.reaping) this.helper.term.resize(size.cols, size.rows);
  }

  /** Undo everything this session made. Safe to call twice: both calls end when it is done. */
  reap(): Promise<void> {
    return (this.reaping ??= this.reapNow());
  }

  private async reapNow(): Promise<void> {
    const pid = this.state.pid;
    // The kernel would take the pair away with the container's network namespace, but
    // only once nothing holds that namespace, and in its own time: delete it now. In a seat
    // the host end lives in the seat's network namespace, which goes with the seat.
    if (this.state.veth && !this.seat) deleteLink(this.state.veth.host);
    // Without a PID namespace or a cgroup, what the student started would outlive the
    // shell: kill the whole family, not just its head. The first process of a PID namespace
    // takes every other one in it along when it dies (pid_namespaces(7)): then the head is
    // enough, and the search through every process on the machine is spared.
    // (Only while it lives: a dead container's pid may already belong to someone else.)
    if (pid !== null && isAlive(pid)) for (const p of [pid, ...(nspid(pid).at(-1) === 1 ? [] : processFamily(pid))]) pidfdKill(p);
    this.helper.kill();
    // The root leaves the host's mount table before the first await: a session built while
    // this one is still being reaped (a rewind) copies that table into its container, and
    // would hold this root there. A lazy unmount waits for nobody; the dying container, in
    // a mount namespace of its own, does not see it go.
    if (this.state.rootMounted) {
      try {
        umount2(this.rootfs, MNT_DETACH);
      } catch {
        // not mounted (already reaped, or the mount failed)
      }
    }
    await this.cgroups.removeSession(this.opts.name);
    if (this.opts.seat) await this.opts.cgroups.removeSession(seatGroup(this.opts.seat.slot));
    for (let i = 0; pid !== null && isAlive(pid) && i < 200; i++) await sleep(5);
    if (this.state.disk) detachLoops([this.state.disk.loop]);
    // The seat's shared bind of the directory, when it got that far.
    if (this.opts.seat) {
      try {
        umount2(this.dir, MNT_DETACH);
      } catch {
        // never bound
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
