// Which line of steps.c the code box of a step centres on: before the step ran, where its
// main call is made; after, the line of the call that ran (a failure first). The calls are
// written as the helper prints them.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { focusSpan, MAIN_CALL, markCalls, parseRegions, renderRegion, splitArgs, type RenderedLine } from './source.ts';
import { mainCall, type Call, type StepKind } from './protocol.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const call = (text: string, ret = 0, errno = ''): Call => ({ call: text, ret, errno, msg: errno ? 'failed' : '', ns: 1000 });

const regions = parseRegions(readFileSync(join(ROOT, 'lab-server/native/steps.c'), 'utf8'));
const linesOf = (kind: string): RenderedLine[] => (regions.get(kind) ?? []).flatMap(renderRegion);
const text = (lines: RenderedLine[], no: number | undefined) => lines.find((l) => l.no === no)?.text.trim() ?? '';

/**
 * For every kind the helper runs: what it calls (the main call among them, as
 * protocol/calls.ts picks it), and the C line that makes that main call.
 */
const RUNS: [StepKind, string[], RegExp][] = [
  ['clone', ['socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, sv)', 'clone(child_main, stack + 1048576, CLONE_NEWPID|CLONE_NEWNS|CLONE_PIDFD|SIGCHLD, &ctl, &pidfd)'], /= clone\(child_main,/],
  ['hostname', ['sethostname("box1", 4)'], /sethostname\(name,/],
  ['propagation', ['mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL)'], /mount\(NULL, "\/", NULL, kinds/],
  ['bind-root', ['mount("/run/stepbox/1-1/rootfs", "/run/stepbox/1-1/rootfs", NULL, MS_BIND|MS_REC, NULL)'], /mount\(path, path, NULL, MS_BIND \| MS_REC/],
  ['pivot-root', ['mkdir("/r/.oldroot", 0700)', 'pivot_root("/r", "/r/.oldroot")', 'chdir("/")'], /SYS_pivot_root/],
  ['chroot', ['chroot("/r")', 'chdir("/")'], /call_end\(r, chroot\(path\)\)/],
  ['mount', ['mkdir("/proc", 0755)', 'mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)'], /mount\(m->source/],
  ['detach-old-root', ['umount2("/.oldroot", MNT_DETACH)', 'rmdir("/.oldroot")'], /umount2\(path, MNT_DETACH\)/],
  ['unshare', ['unshare(CLONE_NEWCGROUP)'], /unshare\(\(int\)flags\)/],
  ['mask', ['mount("tmpfs", "/proc/acpi", "tmpfs", MS_RDONLY, NULL)', 'mount("/dev/null", "/proc/kcore", NULL, MS_BIND, NULL)'], /mount\("tmpfs", path/],
  ['caps', ['prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0)', 'prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)', 'capset(&{_LINUX_CAPABILITY_VERSION_3, 0}, {effective = permitted = inheritable = 0x20})'], /SYS_capset/],
  ['no-new-privs', ['prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)'], /prctl\(PR_SET_NO_NEW_PRIVS, 1/],
  ['seccomp', ['seccomp(SECCOMP_SET_MODE_FILTER, 0, &{9 instructions: 3 calls denied with SECCOMP_RET_ERRNO|EPERM})'], /SYS_seccomp/],
  ['rlimit', ['setrlimit(RLIMIT_NOFILE, &{1024, 1024})'], /setrlimit\(rlimits\[k\]/],
  ['exec', ['execve("/bin/sh", ["/bin/sh"], envp)'], /execve\(rq->argv\[0\]/],
];

describe('the line a step is about', () => {
  test('every kind the page shows C for names its main call, and its region makes it', () => {
    for (const [kind] of RUNS) {
      expect(MAIN_CALL[kind], kind).toBeDefined();
      expect(linesOf(kind).length, `no // [step:${kind}] region`).toBeGreaterThan(0);
    }
  });

  test.each(RUNS)('%s: after it ran, its main call is the one line marked main, and the box centres on it', (kind, texts, line) => {
    const lines = linesOf(kind);
    const calls = texts.map((t) => call(t));
    const main = mainCall(kind, calls, true);
    const marks = markCalls(lines, calls, main);
    const mains = lines.filter((l) => marks.get(l.no) === 'main');
    expect(mains.length, `${kind}: nothing marked main`).toBeGreaterThan(0);
    // One call, perhaps over several lines: the first is the one that makes it.
    expect(mains[0]!.text).toMatch(line);
    expect(mains.at(-1)!.no - mains[0]!.no).toBeLessThan(3);
    expect(focusSpan(lines, kind, calls, main)).toEqual({ from: mains[0]!.no, to: mains.at(-1)!.no });
  });

  test.each(RUNS)('%s: before it ran, the box opens at its main call', (kind, _texts, line) => {
    const lines = linesOf(kind);
    const span = focusSpan(lines, kind);
    expect(span, kind).toBeDefined();
    expect(text(lines, span!.from)).toMatch(line);
  });

  test("clone's box opens at the clone itself, not at the time namespace's helper the region starts with", () => {
    const lines = linesOf('clone');
    expect(lines[0]!.no).toBeLessThan(lines.find((l) => /prepare_time_ns\(struct/.test(l.text))!.no);
    const span = focusSpan(lines, 'clone')!;
    expect(text(lines, span.from)).toMatch(/pid_t pid = clone\(child_main, stack \+ STACK_SIZE/);
    // The call goes on to the next line: the box centres on both.
    expect(span.to).toBe(span.from + 1);
    expect(text(lines, span.to)).toMatch(/ctl, pidfd\);$/);
  });

  test('clone3 (a time namespace, or a cgroup v2 group) marks the syscall that makes it', () => {
    const lines = linesOf('clone');
    const c = call('clone3(&(struct clone_args){.flags = CLONE_NEWPID|CLONE_NEWTIME|CLONE_PIDFD, .pidfd = &pidfd, .exit_signal = SIGCHLD}, 88)');
    const main = mainCall('clone', [c], true);
    const span = focusSpan(lines, 'clone', [c], main)!;
    expect(text(lines, span.from)).toMatch(/syscall\(SYS_clone3/);
  });

  test('a failure the step got past stays marked, but the box centres on the main call', () => {
    // /dev in a user namespace: mknod() is refused, the host's node is bound instead.
    const lines = linesOf('mount');
    const calls = [
      call('mount("tmpfs", "/dev", "tmpfs", MS_NOSUID|MS_STRICTATIME, "mode=755,size=65536k")'),
      call('mknod("/dev/null", S_IFCHR|0666, makedev(1, 3))', -1, 'EPERM'),
      call('mknod("/dev/null", S_IFREG|0666, 0)'),
      call('mount("/.oldroot/dev/null", "/dev/null", NULL, MS_BIND, NULL)'),
    ];
    const main = mainCall('mount', calls, true);
    const marks = markCalls(lines, calls, main);
    const span = focusSpan(lines, 'mount', calls, main)!;
    expect(text(lines, span.from)).toMatch(/mount\(m->source/);
    expect(marks.get(span.from)).toBe('main');
    expect(marks.get(lines.find((l) => /mknod\(path, S_IFCHR \| 0666/.test(l.text))!.no)).toBe('fail');
  });

  test('a failure that stopped the step is where the box goes', () => {
    const lines = linesOf('pivot-root');
    const calls = [call('mkdir("/r/.oldroot", 0700)'), call('pivot_root("/r", "/r/.oldroot")', -1, 'EINVAL')];
    const main = mainCall('pivot-root', calls, false);
    const marks = markCalls(lines, calls, main);
    const span = focusSpan(lines, 'pivot-root', calls, main)!;
    expect(text(lines, span.from)).toMatch(/SYS_pivot_root/);
    expect(marks.get(span.from)).toBe('fail');
  });

  test('without a main call in the region, a failure comes first, then a call that ran, over all its lines', () => {
    const lines = renderRegion([
      { no: 1, text: 'a(1);' },
      { no: 2, text: 'b(2,' },
      { no: 3, text: '  3);' },
    ]);
    expect(focusSpan(lines, 'hostname', [call('b(2, 3)')])).toEqual({ from: 2, to: 3 });
    expect(focusSpan(lines, 'hostname', [call('a(1)'), call('b(2, 3)', -1, 'EPERM')])).toEqual({ from: 2, to: 3 });
    expect(focusSpan(lines, 'hostname', [call('a(1)'), call('b(2, 3)')])).toEqual({ from: 1, to: 1 });
    // A call the region does not make (the server's own) is passed over.
    expect(focusSpan(lines, 'hostname', [call('write(open("/proc/1/uid_map"), "0 0 1", 5)'), call('b(2, 3)')], call('write(…)'))).toEqual({ from: 2, to: 3 });
  });

  test('a kind without C, or a region without its call, has no line to open at', () => {
    expect(focusSpan(linesOf('clone'), 'cgroup-limit')).toBeUndefined();
    expect(focusSpan(linesOf('hostname'), 'exec')).toBeUndefined();
  });
});

describe('a call made in several places marks only the places that could have made it', () => {
  test('mount of /proc: the mount of the table, not the devpts mount nor the bind of a device node', () => {
    const lines = linesOf('mount');
    const c = call('mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL)');
    const marks = markCalls(lines, [c], c);
    const marked = lines.filter((l) => marks.has(l.no)).map((l) => l.text.trim());
    expect(marked).toEqual([expect.stringMatching(/mount\(m->source/)]);
  });

  test('/dev: the devpts mount as it was tried, beside the tmpfs of the table', () => {
    const lines = linesOf('mount');
    const calls = [
      call('mount("tmpfs", "/dev", "tmpfs", MS_NOSUID|MS_STRICTATIME, "mode=755,size=65536k")'),
      call('mount("devpts", "/dev/pts", "devpts", MS_NOSUID|MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5")'),
    ];
    const marks = markCalls(lines, calls, calls[0]);
    const at = (re: RegExp) => marks.get(lines.find((l) => re.test(l.text))!.no);
    expect(at(/mount\(m->source/)).toBe('main');
    expect(at(/mount\("devpts", "\/dev\/pts"/)).toBe('ok');
    expect(at(/mount\(host, path, NULL, MS_BIND/)).toBeUndefined();
  });

  test('caps: the bounding set drop that ran, not the read that decides whether to', () => {
    const lines = linesOf('caps');
    const c = call('prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0)');
    const marks = markCalls(lines, [c]);
    expect(lines.filter((l) => marks.has(l.no)).map((l) => l.text.trim())).toEqual([expect.stringMatching(/prctl\(PR_CAPBSET_DROP, cap/)]);
  });

  test('when no place agrees with the arguments, every place of the name stays marked', () => {
    const lines = renderRegion([
      { no: 1, text: 'mount("a", "/a", NULL, 0, NULL);' },
      { no: 2, text: 'mount("b", "/b", NULL, 0, NULL);' },
    ]);
    expect([...markCalls(lines, [call('mount("c", "/c", NULL, 0, NULL)')]).keys()]).toEqual([1, 2]);
    expect([...markCalls(lines, [call('mount("b", "/b", NULL, 0, NULL)')]).keys()]).toEqual([2]);
  });

  test('arguments split at top-level commas only', () => {
    expect(splitArgs('a, g(b, c), "x,y", {1, 2}, [p, q]) + rest')).toEqual(['a', 'g(b, c)', '"x,y"', '{1, 2}', '[p, q]']);
    expect(splitArgs(')')).toEqual([]);
    expect(splitArgs('"a\\"b,c", MS_BIND | MS_REC')).toEqual(['"a\\"b,c"', 'MS_BIND | MS_REC']);
  });
});
