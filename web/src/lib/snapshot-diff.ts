// What one step changed in the kernel panel: the previous snapshot against the new one,
// section by section, in the panel's order. The panel opens and marks the first section
// that changed, and marks the rows that are new since the step before.
import type { Namespace, NetDevice, Phase, Security, Snapshot } from './protocol.ts';

/** The kernel panel's sections that a step can change, top to bottom. */
export const SECTIONS = ['namespaces', 'uts', 'net', 'cgroups', 'idmap', 'mounts', 'security'] as const;
export type SectionId = (typeof SECTIONS)[number];

export type Mount = Snapshot['mounts'][number];
/** A row of SecurityState: a field of /proc/<pid>/status, or `rlimit:<resource>`. */
export type SecurityField = Exclude<keyof Security, 'filters' | 'rlimits'> | `rlimit:${string}`;

export interface SnapshotDiff {
  /** The changed sections, in the panel's order; the first is the one the panel shows. */
  sections: SectionId[];
  phase: { from: Phase; to: Phase } | null;
  /** Namespace types the container has of its own now and did not before. */
  namespaces: Namespace[];
  /** Cgroup hierarchies whose membership changed: joined one of the lab's groups, or moved. */
  cgroups: string[];
  /** Limit files (`controller/file`) that appeared or read back another value. */
  limits: string[];
  uidMap: boolean;
  gidMap: boolean;
  /** Indices into the new snapshot's mounts of the ones that were not there before. */
  mountsAdded: number[];
  mountsRemoved: Mount[];
  root: boolean;
  exe: boolean;
  security: SecurityField[];
  /** The container's host name is another than before. */
  hostname: boolean;
  /**
   * Devices whose addresses changed, or that came or went: in the container's network
   * namespace, and on the host in the same step (a veth pair has an end on each side).
   * The host alone is not a step's doing: other programs add devices there too.
   */
  net: { container: string[]; host: string[] };
}

export interface PanelState {
  snapshot: Snapshot;
  phase: Phase;
}

/** The rlimits the security section shows; a change to another is not marked. */
export const SHOWN_RLIMITS: readonly string[] = ['nofile', 'nproc'];

/**
 * Read-back files that count use (memory.usage_in_bytes, pids.current, cpu.stat…): they move
 * on their own while the container runs, so only their appearing is a step's doing.
 */
const COUNTER = /(\.usage|usage_in_bytes|\.current|\.stat)$/;

export const limitKey = (l: { controller: string; file: string }): string => `${l.controller}/${l.file}`;
const mountKey = (m: Mount): string => `${m.target}\0${m.fstype}\0${m.source}`;
const mapText = (text: string): string => text.trim().split(/\s+/).join(' ');

/**
 * Everything but the namespaces is compared only within one process: when the container
 * first appears (the clone), its cgroups, maps and mounts are the host's, which it did not
 * gain, so they are not marked as new; its own namespaces are.
 */
export function diffSnapshots(before: PanelState, after: PanelState): SnapshotDiff {
  const a = before.snapshot;
  const b = after.snapshot;
  const same = a.hostPid !== null && a.hostPid === b.hostPid;

  const hadOwn = new Set(a.namespaces.filter((n) => n.isNew).map((n) => n.type));
  const namespaces = b.namespaces.filter((n) => n.isNew && !hadOwn.has(n.type)).map((n) => n.type);

  const groupsBefore = new Map(a.cgroups.map((c) => [c.hierarchy, c]));
  const cgroups = same ? b.cgroups.filter((c) => groupsBefore.get(c.hierarchy)?.path !== c.path || groupsBefore.get(c.hierarchy)?.ours !== c.ours).map((c) => c.hierarchy) : [];
  const limitsBefore = new Map(a.limits.map((l) => [limitKey(l), l.value]));
  const limits = same ? b.limits.filter((l) => (COUNTER.test(l.file) ? !limitsBefore.has(limitKey(l)) : limitsBefore.get(limitKey(l)) !== l.value)).map(limitKey) : [];

  const uidMap = same && mapText(a.uidMap) !== mapText(b.uidMap);
  const gidMap = same && mapText(a.gidMap) !== mapText(b.gidMap);

  // A multiset: a mount stacked twice on the same place is two rows.
  const mountsAdded: number[] = [];
  const mountsRemoved: Mount[] = [];
  if (same) {
    const left = new Map<string, number>();
    for (const m of a.mounts) left.set(mountKey(m), (left.get(mountKey(m)) ?? 0) + 1);
    b.mounts.forEach((m, i) => {
      const n = left.get(mountKey(m)) ?? 0;
      if (n > 0) left.set(mountKey(m), n - 1);
      else mountsAdded.push(i);
    });
    const right = new Map<string, number>();
    for (const m of b.mounts) right.set(mountKey(m), (right.get(mountKey(m)) ?? 0) + 1);
    for (const m of a.mounts) {
      const n = right.get(mountKey(m)) ?? 0;
      if (n > 0) right.set(mountKey(m), n - 1);
      else mountsRemoved.push(m);
    }
  }
  const root = same && a.root !== b.root;
  const exe = same && a.exe !== b.exe;

  const security = same && a.security && b.security ? securityChanges(a.security, b.security) : [];
  const hostname = same && a.hostname.container !== b.hostname.container;
  const netContainer = same ? deviceChanges(a.net.container ?? [], b.net.container ?? []) : [];
  const net = { container: netContainer, host: netContainer.length ? deviceChanges(a.net.host, b.net.host) : [] };

  const changed: Record<SectionId, boolean> = {
    namespaces: namespaces.length > 0,
    uts: hostname,
    net: net.container.length > 0,
    cgroups: cgroups.length > 0 || limits.length > 0,
    idmap: uidMap || gidMap,
    mounts: mountsAdded.length > 0 || mountsRemoved.length > 0 || root || exe,
    security: security.length > 0,
  };
  return {
    sections: SECTIONS.filter((s) => changed[s]),
    phase: before.phase === after.phase ? null : { from: before.phase, to: after.phase },
    namespaces,
    cgroups,
    limits,
    uidMap,
    gidMap,
    mountsAdded,
    mountsRemoved,
    root,
    exe,
    security,
    hostname,
    net,
  };
}

/** Names of the devices that appeared, went, or whose addresses are others now. */
function deviceChanges(a: NetDevice[], b: NetDevice[]): string[] {
  const key = (d: NetDevice) => [...d.addresses].sort().join(' ');
  const before = new Map(a.map((d) => [d.name, key(d)]));
  const after = new Map(b.map((d) => [d.name, key(d)]));
  const changed = b.filter((d) => before.get(d.name) !== key(d)).map((d) => d.name);
  return [...changed, ...a.filter((d) => !after.has(d.name)).map((d) => d.name)];
}

function securityChanges(a: Security, b: Security): SecurityField[] {
  const list = (x: string[]) => [...x].sort().join(' ');
  const out: SecurityField[] = [];
  if (list(a.effective) !== list(b.effective)) out.push('effective');
  if (list(a.bounding) !== list(b.bounding)) out.push('bounding');
  if (a.noNewPrivs !== b.noNewPrivs) out.push('noNewPrivs');
  if (a.seccomp !== b.seccomp || a.filters !== b.filters) out.push('seccomp');
  const limitsBefore = new Map(a.rlimits.map((l) => [l.resource, `${l.soft}/${l.hard}`]));
  for (const l of b.rlimits) if (SHOWN_RLIMITS.includes(l.resource) && limitsBefore.get(l.resource) !== `${l.soft}/${l.hard}`) out.push(`rlimit:${l.resource}`);
  return out;
}

/** The section the panel brings into view for a step: the first one it changed, if any. */
export function sectionToShow(diff: SnapshotDiff): SectionId | null {
  return diff.sections[0] ?? null;
}
