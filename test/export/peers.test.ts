// What a student built, exported and built again by runc, crun and the exported run.sh:
// each container is read from the host, as the kernel keeps it (/proc/<pid>/status, ns,
// uid_map, mountinfo, limits, and the files of its cgroups), and compared with the lab's.
// The differences that remain are the runtimes' own, each named here and in docs/export.md.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCgroups } from '../../lab-server/src/cgroup/detect.ts';
import { knobsFor } from '../../lab-server/src/cgroup/knobs.ts';
import { Playthrough } from '../../lab-server/src/course/playthrough.ts';
import { defaultCgroupsPath, writeBundle } from '../../lab-server/src/export/bundle.ts';
import { ociConfig, toJson } from '../../lab-server/src/export/oci.ts';
import { specOf, type ContainerSpec } from '../../lab-server/src/export/spec.ts';
import { loadLesson } from '../../lab-server/src/lessons/load.ts';
import { NAMESPACES, RLIMITS } from '../../lab-server/src/protocol/kernel.ts';
import { defaultDisk, imageDir } from '../../lab-server/src/rootfs/images.ts';
import { kernel, sleep, until, useLab } from '../support/lab.ts';

const host = detectCgroups();
const disk = defaultDisk(imageDir('busybox'));

/** The group a process is in for one hierarchy, as a directory. */
function groupDir(pid: number, mount: string, version: 1 | 2, controllers: string[]): string {
  for (const line of kernel.cgroup(pid).trim().split('\n')) {
    const [id, ctrls, path] = line.split(':') as [string, string, string];
    if (version === 2 ? id === '0' : ctrls.split(',').some((c) => controllers.includes(c))) return join(mount, path);
  }
  throw new Error(`pid ${pid} is in no group of ${mount}`);
}

/** The container as the kernel sees it from the host. */
function view(pid: number, spec: ContainerSpec) {
  const limits: Record<string, string> = {};
  for (const l of spec.cgroups.limits) {
    const home = host.homes.get(l.controller === 'blkio' ? 'blkio' : l.controller);
    if (!home || l.controller === 'freezer') continue;
    const h = home.hierarchy;
    const dir = groupDir(pid, h.mount, h.version, h.controllers);
    // devices.deny and devices.allow are written, never read: devices.list says what holds.
    for (const k of knobsFor(l, h.version, () => disk).filter((k) => !k.file.startsWith('devices.'))) limits[k.file] = kernel.read(join(dir, k.file)).split('\n').sort().join('\n');
    if (l.controller === 'devices' && h.version === 1) limits['devices.list'] = kernel.read(join(dir, 'devices.list')).split('\n').sort().join('\n');
  }
  const rows = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n');
  return {
    namespaces: NAMESPACES.filter((t) => existsSync(`/proc/self/ns/${t}`) && kernel.ns(pid, t) !== kernel.ns('self', t)),
    uidMap: kernel.read(`/proc/${pid}/uid_map`).replace(/\s+/g, ' '),
    hostname: execFileSync('nsenter', ['-t', String(pid), '-u', 'hostname'], { encoding: 'utf8' }).trim(),
    capEff: kernel.status(pid, 'CapEff'),
    capBnd: kernel.status(pid, 'CapBnd'),
    noNewPrivs: kernel.status(pid, 'NoNewPrivs'),
    seccomp: kernel.status(pid, 'Seccomp'),
    rlimits: spec.rlimits.map((r) => rows.find((row) => row.startsWith(RLIMITS[r.resource]))?.replace(/\s+/g, ' ')),
    limits,
    mounts: [...new Set(readFileSync(`/proc/${pid}/mountinfo`, 'utf8').trim().split('\n').map((l) => l.split(' ')[4]!))].sort(),
  };
}

/** What each container runs: a shell as PID 1 that ends cleanly on SIGTERM, which a PID 1 receives only for a signal it handles. */
const PROGRAM = ['/bin/sh', '-c', 'trap "exit 0" TERM; sleep 1000 & wait'];
/** The program has started: the container's first process runs the image's busybox, not the runtime's or the host's code. */
const inImage = (pid: number) => {
  try {
    return readlinkSync(`/proc/${pid}/exe`).endsWith('/bin/busybox');
  } catch {
    return false;
  }
};
/** A process's children and name; a process that has just gone has neither. */
const children = (pid: number) => readOr(`/proc/${pid}/task/${pid}/children`).split(/\s+/).filter(Boolean).map(Number);
const comm = (pid: number) => readOr(`/proc/${pid}/comm`);
function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Groups of that name in any hierarchy, as a walk of /sys/fs/cgroup finds them. */
function groupsNamed(name: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (e.name === name) found.push(join(dir, e.name));
      else if (depth > 0) walk(join(dir, e.name), depth - 1);
    }
  };
  walk('/sys/fs/cgroup', 6);
  return found;
}

async function underRuntime(runtime: 'runc' | 'crun', dir: string, name: string, spec: ContainerSpec, group: string) {
  const root = join(tmpdir(), `${runtime}-state-${process.pid}`);
  // The container keeps the runtime's stdio: a pipe would never see its end, so a file.
  const log = join(root, '..', `${runtime}-${process.pid}.log`);
  const fd = openSync(log, 'w');
  const run = spawnSync(runtime, ['--root', root, 'run', '--detach', name], { cwd: dir, stdio: ['ignore', fd, fd], timeout: 30_000 });
  closeSync(fd);
  const said = readFileSync(log, 'utf8');
  rmSync(log);
  expect(run.status, `${runtime} run: ${said}`).toBe(0);
  let seen: ReturnType<typeof view>;
  try {
    const pid = (JSON.parse(execFileSync(runtime, ['--root', root, 'state', name], { encoding: 'utf8' })) as { pid: number }).pid;
    expect(await until(() => inImage(pid), 10_000), `${runtime}'s container runs its program`).toBe(true);
    seen = view(pid, spec);
  } finally {
    execFileSync(runtime, ['--root', root, 'delete', '--force', name], { stdio: 'ignore', timeout: 30_000 });
    rmSync(root, { recursive: true, force: true });
  }
  expect(groupsNamed(group), `${runtime} removed its groups`).toEqual([]);
  return seen;
}

/** The program's shell has set its trap: a PID 1 drops a SIGTERM it does not handle, even one from the host. */
const handlesTerm = (pid: number) => (BigInt(`0x${kernel.status(pid, 'SigCgt') || '0'}`) >> 14n) & 1n;

async function underScript(dir: string, spec: ContainerSpec) {
  const bash = spawn('bash', [join(dir, 'run.sh'), ...PROGRAM], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  bash.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => bash.on('exit', (code) => r(code)));
  const within = (ms: number) => Promise.race([exited, sleep(ms).then(() => 'still running' as const)]);
  let pid = 0;
  try {
    const started = await until(() => {
      const u = children(bash.pid!).find((c) => comm(c) === 'unshare');
      const c = u ? children(u)[0] : undefined;
      if (c && inImage(c)) pid = c;
      return pid > 0;
    }, 10_000);
    expect(started, `run.sh started its container: ${stderr}`).toBe(true);
    const seen = view(pid, spec);
    expect(await until(() => handlesTerm(pid) === 1n, 10_000), 'the program traps SIGTERM').toBe(true);
    process.kill(pid, 'SIGTERM');
    expect(await within(20_000), `run.sh's exit status once its program ended: ${stderr}`).toBe(0);
    expect(stderr).toBe('');
    // Nothing of the script is left: its groups are named after it.
    expect(groupsNamed(`stepbox-run-${bash.pid}`)).toEqual([]);
    return seen;
  } finally {
    // Whatever failed, the script still cleans up after itself: its container's first
    // process goes, so unshare returns and the script's EXIT trap removes its groups.
    if (bash.exitCode === null) {
      if (pid && kernel.alive(pid)) process.kill(pid, 'SIGKILL');
      else bash.kill('SIGTERM');
      if ((await within(20_000)) === 'still running') bash.kill('SIGKILL');
    }
  }
}

/** The device rules runc and crun add to every container's, whatever its config says: mknod of any node, /dev/full, and runc's /dev/net/tun, crun's /dev/console. */
const RUNTIME_DEVICES = {
  runc: ['b *:* m', 'c *:* m', 'c 1:7 rwm', 'c 10:200 rwm'],
  crun: ['b *:* m', 'c *:* m', 'c 1:7 rwm', 'c 5:1 rwm'],
};

describe('an exported container, run by its peers', () => {
  const { open } = useLab();

  for (const id of ['book', 'harden']) {
    it(`${id}: runc, crun and run.sh build the container the lab built`, async () => {
      const lesson = loadLesson(id);
      const s = await open();
      const course = new Playthrough(lesson, s);
      for await (const r of course.runRest()) expect(r.ok, `${r.stepId}: ${r.refusal?.en ?? r.error ?? ''}`).toBe(true);
      const steps = course.builtSteps();
      const spec = specOf('busybox', steps);
      // The lab's shell is the container's first process once it has exec'd.
      expect(await until(() => comm(s.state.pid!) === 'sh' || comm(s.state.pid!) === 'busybox')).toBe(true);
      const lab = view(s.state.pid!, spec);

      const dir = mkdtempSync(join(tmpdir(), `stepbox-export-${id}-`));
      // mkdtemp makes it 0700: the user namespace's root, uid 100000 here, must pass through.
      chmodSync(dir, 0o755);
      const cgroupsPath = defaultCgroupsPath(host, `stepbox-export-${id}-${process.pid}`);
      try {
        await writeBundle(join(dir, 'b'), spec, { lesson: id, cgroupsPath, disk });
        const bundle = join(dir, 'b');
        writeFileSync(join(bundle, 'config.json'), toJson(ociConfig(spec, { cgroupsPath, defaultDisk: disk, terminal: false, args: PROGRAM })));
        const runc = await underRuntime('runc', bundle, `stepbox-${id}-${process.pid}`, spec, basename(cgroupsPath));
        const crun = await underRuntime('crun', bundle, `stepbox-${id}-${process.pid}`, spec, basename(cgroupsPath));
        const script = await underScript(bundle, spec);
        for (const [who, seen] of Object.entries({ runc, crun, script })) {
          const expected = structuredClone(lab);
          // What differs, by design (docs/export.md): each runtime allows its own default
          // devices on top of the config's rules, and run.sh has no way to load a filter.
          const extra = RUNTIME_DEVICES[who as keyof typeof RUNTIME_DEVICES];
          if (extra && expected.limits['devices.list']) expected.limits['devices.list'] = [...new Set([...expected.limits['devices.list'].split('\n'), ...extra])].sort().join('\n');
          if (who === 'script') expected.seccomp = '0';
          expect(seen, who).toEqual(expected);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
