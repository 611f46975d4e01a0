// The container as a bash script of util-linux and coreutils commands, for a machine without
// stepbox. The lab's child did its own steps at a breakpoint; a shell cannot stop a process
// half-way, so the script splits the work as runc does between `create` and `start`:
//   - the container's first process is born in its namespaces, drops what it must drop
//     (setpriv) and waits on a fifo, as runc's init waits on exec.fifo;
//   - a second process enters those namespaces (nsenter) and builds the rest: host name,
//     mounts, pivot_root. pivot_root(2) moves the root and working directory of every
//     process of the mount namespace that stood on the old root, the waiting one too;
//   - a line into the fifo, and the first process execs the program in its new root.
import { V2_IMPLICIT, v2Name } from '../cgroup/detect.ts';
import { knobsFor, NoKnob } from '../cgroup/knobs.ts';
import { CAP_SETS, MASKED_PATHS, READONLY_PATHS, type Controller, type Namespace } from '../protocol/kernel.ts';
import type { Limit } from '../protocol/steps.ts';
import type { ContainerSpec } from './spec.ts';

const q = (s: string | number) => `'${String(s).replace(/'/g, `'\\''`)}'`;

const UNSHARE_FLAG: Record<Namespace, string> = { pid: '--pid', net: '--net', ipc: '--ipc', uts: '--uts', mnt: '--mount', user: '--user', cgroup: '--cgroup', time: '--time' };

/** What the script cannot do that the lab did, said in its header and by the export. */
export function scriptLeftOut(spec: ContainerSpec): { en: string; zh: string }[] {
  const out = [...spec.leftOut];
  if (spec.seccomp) out.push({ en: 'the seccomp filter: setpriv loads one only from util-linux 2.40 on (--seccomp-filter), and needs it compiled; the OCI bundle carries it', zh: 'seccomp 过滤器：setpriv 从 util-linux 2.40 起才能加载（--seccomp-filter），而且要先编译好；OCI 包里带着它' });
  if (spec.root === 'chroot') out.push({ en: 'chroot: the script moves the root with pivot_root, because once the capabilities are gone nothing could call chroot(2) any more', zh: 'chroot：脚本用 pivot_root 换根，因为能力一旦放弃，就再也没有谁能调用 chroot(2) 了' });
  if (spec.cgroups.limits.some((l) => l.controller === 'freezer')) out.push({ en: 'the freezer state: a group is frozen while it runs (echo FROZEN > freezer.state), not at start', zh: '冻结状态：冻结是在容器运行时做的（echo FROZEN > freezer.state），不是启动时' });
  return out;
}

function limitLines(limits: Limit[], controller: Controller, version: 1 | 2, disk?: string): string[] {
  const lines: string[] = [];
  for (const l of limits.filter((x) => x.controller === controller && x.controller !== 'freezer')) {
    try {
      for (const k of knobsFor(l, version, () => disk ?? (() => { throw new NoKnob('blkio'); })())) lines.push(`echo ${q(k.value)} > "$1/${k.file}"`);
    } catch (e) {
      if (!(e instanceof NoKnob)) throw e;
      lines.push(`echo ${q(`stepbox export: ${controller} has no such file on cgroup v${version}; left as it is`)} >&2`);
    }
  }
  return lines;
}

function cgroupSection(spec: ContainerSpec, disk?: string): string {
  const { controllers, limits } = spec.cgroups;
  if (!controllers.length) return '';
  const fns = controllers.map((c) => {
    const v1 = limitLines(limits, c, 1, disk);
    const v2 = limitLines(limits, c, 2, disk);
    return `limits_${c}() {  # $1: the group, $2: its cgroup version
  if [ "$2" = 1 ]; then
    ${v1.join('\n    ') || ':'}
  else
    ${v2.join('\n    ') || ':'}
  fi
}`;
  });
  const v2names = controllers.filter((c) => !V2_IMPLICIT.includes(c)).map(v2Name);
  return `
# ---- Code block 2: the cgroups, one group per hierarchy, under this shell's own ---------
${fns.join('\n')}
selfcg=$(cat /proc/self/cgroup)   # where this shell stands, before it moves
# The hierarchy that holds a controller: "version mount own-group".
home() {
  local c=$1 id ctrls path
  while IFS=: read -r id ctrls path; do
    if [ "$id" != 0 ] && [[ ",$ctrls," == *",$c,"* ]]; then
      echo "1 $(mountpoint_of cgroup "$c") $path"
      return
    fi
  done <<< "$selfcg"
  path=$(grep '^0::' <<< "$selfcg") || return 1
  echo "2 $(mountpoint_of cgroup2 '') \${path#0::}"
}
# Where a cgroup filesystem is mounted: mountinfo's fields after " - " are type, source, options.
mountpoint_of() {
  awk -v t="$1" -v c="$2" '{ split($0, a, " - "); split(a[2], b, " "); split(a[1], f, " ")
    if (b[1] == t && (c == "" || index(","b[3]",", ","c","))) { print f[5]; exit } }' /proc/self/mountinfo
}
make_group() {
  local c=$1 v mnt own dir
  read -r v mnt own < <(home "$c") || true
  [ -n "\${mnt:-}" ] || { echo "run.sh: no mounted cgroup hierarchy has the $c controller" >&2; exit 1; }
  own=$mnt\${own%/}
  dir=$own/$name
  if [ "$v" = 2 ] && [ -z "\${v2own:-}" ]; then v2_prepare "$own"; fi
  if [ ! -d "$dir" ]; then
    mkdir "$dir"
    groups+=("$dir")
    # A new v1 cpuset group has no CPUs and no memory nodes until they are written.
    if [ "$v" = 1 ] && [ -e "$dir/cpuset.cpus" ]; then cat "$own/cpuset.cpus" > "$dir/cpuset.cpus"; cat "$own/cpuset.mems" > "$dir/cpuset.mems"; fi
    [ "$v" = 1 ] && back+=("$own/tasks")
  fi
  limits_$c "$dir" "$v"
  # This shell joins first: the container, forked below, is born in the group, and its
  # cgroup namespace (if it has one) sees the group as its root.
  echo $$ > "$dir/$( [ "$v" = 1 ] && echo tasks || echo cgroup.procs)"
}
# On v2 a group that holds processes may not hand controllers down: this shell moves into a
# leaf of its own group first, which it may only do if nobody else is in that group.
v2_prepare() {
  local own=$1 p
  for p in $(cat "$own/cgroup.procs"); do
    if [ "$p" != $$ ] && [ "$(cut -d' ' -f4 /proc/$p/stat 2>/dev/null)" != $$ ]; then
      echo "run.sh: other processes share this shell's cgroup ($own); start me in one of my own: systemd-run --scope -p Delegate=yes bash run.sh" >&2
      exit 1
    fi
  done
  v2own=$own
  mkdir "$own/$name.sh" && echo $$ > "$own/$name.sh/cgroup.procs"
  back+=("$own/$name.sh/cgroup.procs")
  for p in ${v2names.join(' ')}; do
    grep -qw "$p" "$own/cgroup.subtree_control" && continue
    echo "+$p" > "$own/cgroup.subtree_control" && v2enabled+=" $p"
  done
}
${controllers.map((c) => `make_group ${c}`).join('\n')}
`;
}

function devLines(userns: boolean): string[] {
  const nodes: [string, number, number][] = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]];
  return [
    'mount -t tmpfs -o nosuid,strictatime,mode=755,size=65536k tmpfs /dev',
    ...nodes.map(([n, a, b]) =>
      userns
        ? // A user namespace may not make device nodes: the host's are bound in, as the lab does.
          `touch /dev/${n} && mount --bind /.oldroot/dev/${n} /dev/${n}`
        : `mknod -m 666 /dev/${n} c ${a} ${b}`,
    ),
    'mkdir /dev/pts && mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts',
    'ln -s pts/ptmx /dev/ptmx; ln -s /proc/self/fd /dev/fd',
    'ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr',
  ];
}

/** What the second process does inside the namespaces: the lab's block 3, before exec. */
function insideLines(spec: ContainerSpec): string[] {
  const userns = spec.namespaces.includes('user');
  // Hashing off: after pivot_root a command must be found again, in the image.
  const out: string[] = ['set -e +h'];
  if (spec.hostname) out.push(`hostname ${q(spec.hostname)}`);
  if (spec.propagation) out.push(`mount --make-r${spec.propagation} /`);
  if (spec.root) {
    out.push('mount --bind "$rootfs" "$rootfs"', 'cd "$rootfs" && mkdir -p .oldroot && pivot_root . .oldroot && cd /', '# From here on every command is the image\'s (busybox).');
  }
  for (const m of spec.mounts) {
    if (m === 'proc') out.push('mount -t proc -o nosuid,nodev,noexec proc /proc');
    if (m === 'sys') out.push('mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys');
    if (m === 'tmp') out.push('mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp');
    if (m === 'dev') out.push(...devLines(userns));
  }
  if (spec.masked) {
    out.push(
      `for p in ${MASKED_PATHS.join(' ')}; do`,
      '  if [ -d "$p" ]; then mount -t tmpfs -o ro tmpfs "$p"; elif [ -e "$p" ]; then mount --bind /dev/null "$p"; fi',
      'done',
      `for p in ${READONLY_PATHS.join(' ')}; do`,
      '  [ -e "$p" ] && mount --bind "$p" "$p" && mount -o remount,bind,ro,nosuid,nodev,noexec "$p"',
      'done',
    );
  }
  if (spec.root) out.push('umount -l /.oldroot && rmdir /.oldroot');
  return out;
}

/** run.sh for the container the spec describes, run as root from the bundle's folder. */
export function shellScript(spec: ContainerSpec, opts: { lesson: string; disk?: string } ): string {
  const userns = spec.namespaces.includes('user');
  // The user namespace, when there is one, is made first and entered (below); unshare makes
  // the others inside it.
  const unshare = ['unshare', '--fork', '--kill-child', ...spec.namespaces.filter((n) => n !== 'user').map((n) => UNSHARE_FLAG[n])];
  if (spec.timeOffsets) unshare.push(`--monotonic=${spec.timeOffsets.monotonicSec}`, `--boottime=${spec.timeOffsets.boottimeSec}`);
  const setpriv = ['setpriv'];
  if (spec.caps) {
    const kept = CAP_SETS[spec.caps].map((c) => c.slice(4).toLowerCase());
    const list = ['-all', ...kept.map((c) => `+${c}`)].join(',');
    setpriv.push(`--bounding-set=${list}`, `--inh-caps=${list}`, '--ambient-caps=-all');
  }
  if (spec.noNewPrivs) setpriv.push('--nnp');
  const rlimits = spec.rlimits.map((r) => `--${r.resource}=${r.soft}:${r.hard}`);
  const argv = (spec.argv ?? ['/bin/sh']).map(q).join(' ');
  const left = scriptLeftOut(spec);
  return `#!/usr/bin/env bash
# The container the stepbox lesson "${opts.lesson}" built, rebuilt with util-linux and
# coreutils on a machine without stepbox. Run it as root from anywhere:
#   sudo bash run.sh            # the program the lesson ran: ${spec.argv?.join(' ') ?? '/bin/sh'}
#   sudo bash run.sh CMD ARGS   # another program of the image instead
# It uses ./rootfs, so what the container writes stays there (the lab kept it in memory).
${left.length ? `#\n# Not carried over:\n${left.map((l) => `#   - ${l.en}`).join('\n')}\n` : ''}set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run.sh: run me as root (sudo bash run.sh)" >&2; exit 1; }
for tool in unshare nsenter setpriv prlimit mount pivot_root; do
  command -v "$tool" >/dev/null || { echo "run.sh: needs $tool (util-linux)" >&2; exit 1; }
done
rootfs=$(cd "$(dirname "$0")" && pwd)/rootfs
name=stepbox-run-$$
work=$(mktemp -d)
mkfifo "$work/start" "$work/ready"
if [ $# -gt 0 ]; then argv=("$@"); else argv=(${argv}); fi

cleanup() {
  local f d p
  [ -z "\${setup:-}" ] || { kill "$setup" 2>/dev/null; wait "$setup" 2>/dev/null; } || true
  [ -z "\${holder:-}" ] || { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; } || true
  # Out of the container's groups (v1: back home; v2: into the leaf), then remove them once
  # the container's last processes have left them.
  for f in "\${back[@]}"; do echo $$ > "$f" || true; done
  for d in "\${groups[@]}"; do
    # Whatever of the container is left goes, as runc delete does it: a process that
    # gained capabilities in its user namespace no longer dies with unshare (--kill-child).
    for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    for _ in $(seq 100); do rmdir "$d" 2>/dev/null && break; sleep 0.02; done
    [ ! -d "$d" ] || echo "run.sh: could not remove $d: processes are still in it" >&2
  done
  if [ -n "\${v2own:-}" ]; then
    for p in $v2enabled; do echo "-$p" > "$v2own/cgroup.subtree_control" || true; done
    echo $$ > "$v2own/cgroup.procs" || true
    rmdir "$v2own/$name.sh" || true
  fi
  rm -rf "$work"
}
groups=() back=() v2own= v2enabled=
trap cleanup EXIT
${cgroupSection(spec, opts.disk)}
# ---- Code blocks 1 and 3: namespaces, root, mounts --------------------------------------
${spec.idmap ? `# The user namespace first, held by a process that only sleeps: its id maps are written
# from here before anything runs in it, as the lab's helper writes them (an execve by an id
# the namespace does not map would lose every capability). The rest is made inside it, by
# its root, so that it owns them.
unshare --user sleep infinity &
holder=$!
until [ "$(readlink /proc/$holder/ns/user)" != "$(readlink /proc/self/ns/user)" ]; do sleep 0.02; done
echo ${spec.idmap.setgroups} > /proc/$holder/setgroups
printf '%s\\n' ${spec.idmap.uid.map((l) => q(`${l.inside} ${l.outside} ${l.count}`)).join(' ')} > /proc/$holder/uid_map
printf '%s\\n' ${spec.idmap.gid.map((l) => q(`${l.inside} ${l.outside} ${l.count}`)).join(' ')} > /proc/$holder/gid_map
enter=(nsenter --target "$holder" --user)
` : 'enter=()\n'}
# The second process: it waits for the first to be born and to have given up what it must,
# enters its namespaces, builds what the lab's child built at its breakpoint, and lets it exec.
(
  u= c=
  until [ -n "$u" ]; do
    for p in $(cat /proc/$$/task/$$/children); do [ "$(cat /proc/$p/comm 2>/dev/null)" = unshare ] && u=$p; done
    sleep 0.02
  done
  until [ -n "$c" ]; do read -r c _ < /proc/$u/task/$u/children || true; sleep 0.02; done
  if ${[...(rlimits.length ? [`prlimit --pid "$c" ${rlimits.join(' ')}`] : []), 'read -r _ < "$work/ready"'].join(' && ')} &&
    nsenter --target "$c" --all env rootfs="$rootfs" bash -s <<'INSIDE'
${insideLines(spec).join('\n')}
INSIDE
  then echo start > "$work/start"
  else echo "run.sh: building the container failed; it is stopped" >&2; kill -KILL "$c"
  fi
) &
setup=$!
# The first process, born in the namespaces: it gives up what it must (setpriv), says it is
# ready and waits, its working directory the old root so that pivot_root moves it; then it
# execs the program.
wait_then_exec='echo ready >&4 && read -r _ <&3 && exec 3<&- 4<&- && exec "$@"'
cd /
"\${enter[@]}" ${unshare.join(' ')} \\
  ${setpriv.length > 1 ? `${setpriv.join(' ')} ` : ''}/bin/sh -c "$wait_then_exec" sh "\${argv[@]}" 3<>"$work/start" 4<>"$work/ready"
`;
}
