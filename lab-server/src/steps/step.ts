// The contract every step kind fulfils: when it may run, how it runs, what it changed.
// How a step is read back is the same for all (session/observe.ts reads the kernel), and
// undoing is one idempotent reap() for the whole session (session/reap.ts).
import type { CgroupTree } from '../cgroup/tree.ts';
import type { Helper } from '../helper/client.ts';
import type { HelperReply } from '../helper/wire.ts';
import type { Call, Refusal, Said } from '../protocol/results.ts';
import type { ParamsOf, StepKind } from '../protocol/steps.ts';
import type { State } from './state.ts';

export interface StepCtx {
  state: State;
  helper: Helper;
  cgroups: CgroupTree;
  /** The session's name, used for its cgroups and its directory. */
  session: string;
  /** Where the session's overlay root is (or will be) mounted on the host. */
  rootfs: string;
  /** Mount the session's overlay, its lower layer shifted by `shift` when not null. */
  mountRoot(shift: number | null): Call[];
  /** The uid a user namespace maps container root to, unless the student writes another. */
  idmapBase: number;
  /** The seat the session runs in, on a shared machine (session/seat.ts); then "the host" is the seat. */
  seat: { readonly name: string; readonly idBase: number; readonly server: number } | null;
}

export interface StepOutcome {
  calls: Call[];
  notes?: Said[];
  /** Set when the step failed for a reason that is not one call's errno. */
  error?: string;
  /** The helper's own verdict, when the helper ran the step. */
  ok?: boolean;
}

export interface StepModule<K extends StepKind> {
  kind: K;
  /** Why this step may not run now, in the student's words; null when it may. */
  refuse(params: ParamsOf<K>, ctx: StepCtx): Refusal | null;
  /** Do it for real. Updates ctx.state only for what actually happened. */
  run(params: ParamsOf<K>, ctx: StepCtx): Promise<StepOutcome>;
}

export function succeeded(outcome: StepOutcome): boolean {
  if (outcome.error) return false;
  return outcome.ok ?? outcome.calls.every((c) => c.ret >= 0);
}

/** A helper reply as a step outcome. */
export function fromReply(reply: HelperReply): StepOutcome {
  return { calls: reply.calls, error: reply.error, ok: reply.ok };
}
