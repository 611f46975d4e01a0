// Which of a step's calls is the one the chapter talks about (the others prepare or tidy
// up). The CLI prints it; the page highlights it.
import type { Call } from './results.ts';
import type { StepKind } from './steps.ts';

const MAIN: Record<StepKind, RegExp> = {
  clone: /^clone3?\(/,
  idmap: /uid_map/,
  'cgroup-create': /^mkdir\(/,
  'cgroup-limit': /^write\(/,
  'cgroup-join': /\/(tasks|cgroup\.procs)"/,
  hostname: /^sethostname\(/,
  propagation: /^mount\(/,
  'bind-root': /^mount\(/,
  'pivot-root': /^pivot_root\(/,
  chroot: /^chroot\(/,
  mount: /^mount\(/,
  'detach-old-root': /^umount2\(/,
  unshare: /^unshare\(/,
  veth: /^ip link add /,
  disk: /LOOP_SET_FD/,
  mask: /^mount\(/,
  caps: /^capset\(/,
  'no-new-privs': /PR_SET_NO_NEW_PRIVS/,
  seccomp: /^seccomp\(/,
  rlimit: /^setrlimit\(/,
  exec: /^execve\(/,
};

/** The first failed call if any failed, else the step's main call, else the last. */
export function mainCall(kind: StepKind, calls: Call[], ok: boolean): Call | undefined {
  if (!ok) {
    const failed = calls.find((c) => c.ret < 0 && c.errno !== 'EEXIST');
    if (failed) return failed;
  }
  return calls.find((c) => MAIN[kind].test(c.call)) ?? calls.at(-1);
}
