// A lesson's expectations, checked against what the kernel reports after a step.
import type { Check, Snapshot } from '../protocol/results.ts';
import type { Expect } from '../protocol/lesson.ts';

/** The parts of a snapshot each expectation reads: a Record, so that a new expectation cannot leave them unsaid. */
const READS: Record<keyof Expect, readonly (keyof Snapshot)[]> = {
  newNamespaces: ['namespaces'],
  pidInside: ['nspid'],
  inCgroup: ['cgroups'],
  limit: ['limits', 'cgroupVersions'],
  mounted: ['mounts'],
  pivoted: ['mounts'],
  exe: ['exe'],
  execed: ['exe'],
  uidMap: ['uidMap'],
  bounding: ['security'],
  noNewPrivs: ['security'],
  seccomp: ['security'],
  rlimit: ['security'],
};

/** What evaluate() reads of a snapshot for these expectations: all a step needs read to be checked. */
export function reads(expect: Expect): Set<keyof Snapshot> {
  return new Set(Object.keys(expect).flatMap((k) => READS[k as keyof Expect]));
}

export function evaluate(expect: Expect, s: Snapshot): Check[] {
  const out: Check[] = [];
  const add = (ok: boolean, en: string, zh: string) => out.push({ ok, en, zh });
  for (const ns of expect.newNamespaces ?? []) {
    const row = s.namespaces.find((r) => r.type === ns);
    add(!!row?.isNew, `new ${ns} namespace: ${row?.container ?? 'none'} (host ${row?.host})`, `新的 ${ns} 命名空间：${row?.container ?? '无'}（宿主机 ${row?.host}）`);
  }
  if (expect.pidInside !== undefined) {
    const inside = s.nspid.at(-1);
    add(inside === expect.pidInside, `pid inside the container is ${inside} (NSpid ${s.nspid.join(' ')})`, `容器内的 pid 是 ${inside}（NSpid ${s.nspid.join(' ')}）`);
  }
  if (expect.inCgroup) {
    const c = expect.inCgroup;
    const row = s.cgroups.find((r) => r.ours && (r.hierarchy.split(',').includes(c) || r.hierarchy === 'unified'));
    add(!!row, `in the session's ${c} cgroup: ${row?.path ?? 'no'}`, `已在会话的 ${c} 控制组中：${row?.path ?? '否'}`);
  }
  if (expect.limit) {
    const { controller, file, value, v1, v2 } = expect.limit;
    const version = s.cgroupVersions[controller];
    // The form for this machine's version; none where the lesson left that version out,
    // as one the step has nothing to show on. No group at all is a failure.
    const both = file !== undefined && value !== undefined ? { file, value } : undefined;
    const want = both ?? (version === undefined ? (v1 ?? v2) : version === 1 ? v1 : v2);
    if (want) {
      const row = s.limits.find((l) => l.controller === controller && l.file === want.file);
      add(row?.value === want.value, `${want.file} reads ${row?.value ?? '(missing)'}`, `${want.file} 的值为 ${row?.value ?? '（缺失）'}`);
    }
  }
  if (expect.mounted) {
    const m = s.mounts.find((x) => x.target === expect.mounted);
    add(!!m, `${expect.mounted} is a mount point (${m?.fstype ?? 'not mounted'})`, `${expect.mounted} 是挂载点（${m?.fstype ?? '未挂载'}）`);
  }
  if (expect.pivoted !== undefined) {
    const rootMount = s.mounts.find((m) => m.target === '/');
    const ok = rootMount?.fstype === 'overlay';
    add(ok === expect.pivoted, `the container's / is ${rootMount?.fstype ?? 'unknown'}`, `容器的 / 是 ${rootMount?.fstype ?? '未知'}`);
  }
  if (expect.exe) add(s.exe === expect.exe, `running ${s.exe}`, `正在运行 ${s.exe}`);
  if (expect.execed !== undefined) {
    const replaced = s.exe !== null && !s.exe.endsWith('/stepper');
    add(replaced === expect.execed, `the process now runs ${s.exe ?? 'nothing'}`, `进程现在运行的是 ${s.exe ?? '（无）'}`);
  }
  if (expect.bounding) {
    const got = s.security?.bounding ?? [];
    const same = got.length === expect.bounding.length && expect.bounding.every((c) => got.includes(c));
    add(same, `bounding set: ${got.join(' ') || '(empty)'}`, `边界集合：${got.join(' ') || '（空）'}`);
  }
  if (expect.noNewPrivs !== undefined) add(s.security?.noNewPrivs === expect.noNewPrivs, `NoNewPrivs: ${s.security?.noNewPrivs ? 1 : 0}`, `NoNewPrivs：${s.security?.noNewPrivs ? 1 : 0}`);
  if (expect.seccomp !== undefined) add(s.security?.seccomp === expect.seccomp, `Seccomp: ${s.security?.seccomp ?? 'unknown'} (${s.security?.filters ?? 0} filters)`, `Seccomp：${s.security?.seccomp ?? '未知'}（${s.security?.filters ?? 0} 个过滤器）`);
  if (expect.rlimit) {
    const row = s.security?.rlimits.find((r) => r.resource === expect.rlimit!.resource);
    const got = row ? `${row.soft} ${row.hard}` : 'unknown';
    add(got === `${expect.rlimit.soft} ${expect.rlimit.hard}`, `${expect.rlimit.resource}: soft ${row?.soft ?? '?'}, hard ${row?.hard ?? '?'}`, `${expect.rlimit.resource}：软限制 ${row?.soft ?? '?'}，硬限制 ${row?.hard ?? '?'}`);
  }
  if (expect.uidMap !== undefined) {
    const got = s.uidMap.replace(/\s+/g, ' ').trim();
    add(got === expect.uidMap, `uid_map: ${got || '(empty)'}`, `uid_map：${got || '（空）'}`);
  }
  return out;
}
