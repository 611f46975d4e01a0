// `stepbox doctor`: can this machine run the lab? One row per requirement, with a fix.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { availableParallelism, machine, release } from 'node:os';
import { dirname, join } from 'node:path';
import { detectCgroups, V1_ONLY, v2Name } from '../cgroup/detect.ts';
import { STEPPER } from '../helper/client.ts';
import { NAMESPACES, type Namespace } from '../protocol/kernel.ts';
import { imageDir, imageExists } from '../rootfs/images.ts';
import { readOr } from '../sys/proc.ts';

interface Row {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const UNSHARE_FLAG: Record<Namespace, string[]> = {
  user: ['--user'],
  pid: ['--pid', '--fork'],
  mnt: ['--mount'],
  net: ['--net'],
  ipc: ['--ipc'],
  uts: ['--uts'],
  cgroup: ['--cgroup'],
  time: ['--time', '--fork'],
};

/** Ask the kernel for a namespace with util-linux's unshare(1): independent of our own code. */
function canCreate(ns: Namespace): Row {
  const r = spawnSync('unshare', [...UNSHARE_FLAG[ns], 'true'], { encoding: 'utf8', timeout: 5000 });
  const ok = r.status === 0;
  return {
    check: `${ns} namespace`,
    ok,
    detail: ok ? 'can be created' : (r.stderr || r.error?.message || 'failed').trim(),
    fix: ok ? undefined : ns === 'user' ? 'enable user namespaces: sysctl -w user.max_user_namespaces=15000 (and kernel.unprivileged_userns_clone=1 on older Debian)' : `this kernel lacks CONFIG_${ns.toUpperCase()}_NS`,
  };
}

const PERF_TYPE_RAW = 4;

/** The facts of this machine that lessons depend on, read from the kernel: said, not judged, unless a lesson cannot run. */
function machineRows(): Row[] {
  const sizes = readOr(() => readdirSync('/sys/kernel/mm/hugepages'), [] as string[]).map((d) => Number(/^hugepages-(\d+)kB$/.exec(d)?.[1])).filter(Boolean).sort((a, b) => a - b);
  const kib = (n: number) => (n >= 1024 * 1024 ? `${n / 1024 / 1024} GiB` : n >= 1024 ? `${n / 1024} MiB` : `${n} KiB`);
  // The processor's own counters register as the event source of type PERF_TYPE_RAW (x86 "cpu", arm64 "armv8_…").
  const pmu = readOr(() => readdirSync('/sys/bus/event_source/devices'), [] as string[]).find((d) => readOr(() => readFileSync(`/sys/bus/event_source/devices/${d}/type`, 'utf8').trim(), '') === String(PERF_TYPE_RAW));
  return [
    { check: 'machine', ok: true, detail: `${machine()}, ${availableParallelism()} CPUs` },
    {
      check: 'huge pages',
      ok: sizes.includes(2048),
      detail: sizes.length ? sizes.map(kib).join(', ') : 'none',
      fix: 'the hugetlb lesson uses 2 MiB pages: a kernel with CONFIG_HUGETLBFS and 4 KiB base pages has them',
    },
    { check: 'CPU counters', ok: true, detail: pmu ? `${pmu} (cycles and instructions count)` : 'none offered to this kernel (usual in a VM): the perf_event lesson counts software events only' },
  ];
}

export async function doctor(opts: { image?: string; cgroupParent?: string }): Promise<number> {
  const rows: Row[] = [];
  const root = process.getuid?.() === 0;
  rows.push({ check: 'root', ok: root, detail: root ? 'running as root' : `uid ${process.getuid?.()}`, fix: 'run as root: sudo npm start' });
  const [major = 0, minor = 0] = release().split('.').map(Number);
  rows.push({ check: 'kernel', ok: major > 5 || (major === 5 && minor >= 6), detail: release(), fix: 'Linux 5.6 or newer is needed (time namespaces, pidfd)' });
  rows.push({ check: 'node', ok: Number(process.versions.node.split('.')[0]) >= 20, detail: process.version, fix: 'install Node.js 20 or newer' });
  if (root) for (const ns of NAMESPACES) rows.push(canCreate(ns));
  rows.push(...machineRows());

  const cg = detectCgroups();
  rows.push({ check: 'cgroup mode', ok: true, detail: `${cg.mode}: ${cg.hierarchies.map((h) => `${h.label}@${h.mount}${h.own === '/' ? '' : ` (own ${h.own})`}`).join(', ')}` });
  for (const [c, home] of cg.homes) {
    const v2 = home.hierarchy.version === 2;
    rows.push({ check: `cgroup ${c}`, ok: true, detail: v2 ? `v2${home.v2Name ? ` as ${home.v2Name}` : ''} in ${home.hierarchy.mount}` : `v1 at ${home.hierarchy.mount}${home.hierarchy.private ? ' (not mounted by this machine: the lab mounts it there while a lesson uses it)' : ''}` });
  }
  const v2 = cg.hierarchies.find((h) => h.version === 2);
  for (const [c, why] of cg.missing) {
    // Controllers with no v2 form are no fault of a v2 machine: the lessons explain them there.
    const noV2Form = V1_ONLY.includes(c) && cg.mode === 'v2';
    const parent = v2 ? join(v2.mount, dirname(v2.own), 'cgroup.subtree_control') : '';
    const fix =
      c === 'devices'
        ? 'mount the v1 devices hierarchy, or use a v2 machine (the lab explains it there)'
        : cg.mode === 'v2'
          ? `delegate it to this cgroup: echo +${v2Name(c)} > ${parent} (with systemd: Delegate=yes on the unit that runs the lab)`
          : `mount the v1 ${c} hierarchy: mount -t cgroup -o ${c} cgroup /sys/fs/cgroup/${c}`;
    rows.push({ check: `cgroup ${c}`, ok: noV2Form, detail: noV2Form ? `not on v2: ${why}` : why, fix: noV2Form ? undefined : fix });
  }

  const overlay = readFileSync('/proc/filesystems', 'utf8').includes('\toverlay\n');
  rows.push({ check: 'overlayfs', ok: overlay, detail: overlay ? 'available' : 'not in /proc/filesystems', fix: 'modprobe overlay' });
  const image = opts.image ?? 'busybox';
  const hasImage = imageExists(image);
  rows.push({ check: `image ${image}`, ok: hasImage, detail: hasImage ? readFileSync(`${imageDir(image)}/.stepbox-image`, 'utf8').trim() : 'not built', fix: `sh rootfs-images/build.sh ${image}` });
  let helper = 'not built';
  if (existsSync(STEPPER)) {
    try {
      helper = execFileSync(STEPPER, ['--version'], { encoding: 'utf8' }).trim();
    } catch (e) {
      helper = `does not run: ${(e as Error).message}`;
    }
  }
  rows.push({ check: 'helper', ok: helper.startsWith('stepper'), detail: helper, fix: 'make -C lab-server/native (needs a C compiler: apt-get install build-essential)' });
  // The veth step runs iproute2's ip on the host, and in the container's network namespace through nsenter.
  for (const [tool, args, pkg] of [['ip', ['-V'], 'iproute2'], ['nsenter', ['--version'], 'util-linux']] as const) {
    const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 5000 });
    rows.push({ check: tool, ok: r.status === 0, detail: r.status === 0 ? r.stdout.trim().split('\n')[0]! : 'not found (the veth step needs it)', fix: `apt-get install ${pkg}` });
  }

  const width = Math.max(...rows.map((r) => r.check.length));
  for (const r of rows) {
    console.log(`${r.ok ? '✓' : '✗'} ${r.check.padEnd(width)}  ${r.detail}`);
    if (!r.ok && r.fix) console.log(`  ${' '.repeat(width)}  fix: ${r.fix}`);
  }
  const bad = rows.filter((r) => !r.ok).length;
  console.log(bad ? `\n${bad} problem${bad > 1 ? 's' : ''} found` : '\nall good: this machine can run the lab');
  return bad ? 1 : 0;
}
