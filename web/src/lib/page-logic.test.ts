// The page's own logic, without a browser: cutting the helper's source into step regions
// and finding the lines that ran, argv editing, flow control, parameter validation, deep
// links and Markdown. The browser test shows these work together; these show the edges.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { joinArgv, splitArgv } from './argv.ts';
import { FlowControl } from './flow.ts';
import { formatBytes, formatNs, formatOffset, formatWait, inode } from './format.ts';
import { renderInline, renderMarkdown } from './markdown.ts';
import { validate } from './params.ts';
import { parseHash, stepHash } from './route.ts';
import { callName, markCalls, parseRegions, renderRegion, tokenizeC } from './source.ts';
import { chooseWatched, spoken, taskChanges } from './tasks.ts';
import type { LessonStep } from '../../../lab-server/src/protocol/lesson.ts';
import type { Call, StepResult } from '../../../lab-server/src/protocol/results.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const call = (text: string, ret = 0, errno = ''): Call => ({ call: text, ret, errno, msg: errno ? 'failed' : '', ns: 1000 });

describe("the helper's source, cut into steps", () => {
  const source = readFileSync(join(ROOT, 'lab-server/native/steps.c'), 'utf8');
  const regions = parseRegions(source);

  test('every step the helper runs has a marked region', () => {
    for (const kind of ['clone', 'hostname', 'propagation', 'bind-root', 'pivot-root', 'chroot', 'mount', 'detach-old-root', 'unshare', 'exec']) {
      expect(regions.get(kind)?.length, `no // [step:${kind}] region in steps.c`).toBeGreaterThan(0);
    }
  });

  test('a region keeps the real line numbers and leaves the markers out', () => {
    const lines = source.split('\n');
    for (const [kind, list] of regions) {
      for (const region of list) {
        for (const line of region) {
          expect(lines[line.no - 1]!.trim(), `${kind} line ${line.no}`).toBe(line.text.trim());
          expect(line.text).not.toMatch(/\[\/?step/);
        }
      }
    }
  });

  test('the line of the syscall that ran is found, not the string that prints it', () => {
    const pivot = regions.get('pivot-root')!.flatMap(renderRegion);
    const marks = markCalls(pivot, [call('pivot_root("/r", "/r/.oldroot")')], undefined);
    const marked = pivot.filter((l) => marks.has(l.no));
    expect(marked.length).toBeGreaterThan(0);
    // glibc has no pivot_root(): the helper calls syscall(SYS_pivot_root, …).
    expect(marked.every((l) => /SYS_pivot_root|pivot_root\s*\(/.test(l.code))).toBe(true);
    expect(marked.some((l) => l.text.includes('call_begin'))).toBe(false);
  });

  test("clone's region holds the clone itself, by either call", () => {
    const clone = regions.get('clone')!.flatMap(renderRegion);
    for (const [ran, line] of [
      ['clone(child_main, stack + 1048576, CLONE_NEWNS|CLONE_PIDFD|SIGCHLD, &ctl, &pidfd)', /\bclone\s*\(child_main/],
      ['clone3(&(struct clone_args){.flags = CLONE_NEWTIME|CLONE_PIDFD, .pidfd = &pidfd, .exit_signal = SIGCHLD}, 88)', /SYS_clone3/],
    ] as const) {
      const c = call(ran);
      const marks = markCalls(clone, [c], c);
      const main = clone.filter((l) => marks.get(l.no) === 'main');
      expect(main.length, ran).toBeGreaterThan(0);
      expect(main.some((l) => line.test(l.code)), ran).toBe(true);
    }
  });

  test('a failed call marks its line as failed, over a success on the same line', () => {
    const lines = renderRegion([
      { no: 10, text: '\tcall_begin(r, "mknod(%s)", cq(p));' },
      { no: 11, text: '\tcall_try(r, mknod(p, mode,' },
      { no: 12, text: '\t\tdev));' },
    ]);
    const marks = markCalls(lines, [call('mknod("/dev/null")'), call('mknod("/dev/zero")', -1, 'EPERM')]);
    expect(marks.get(10)).toBeUndefined();
    // A call spread over two lines marks both, up to its closing parenthesis.
    expect(marks.get(11)).toBe('fail');
    expect(marks.get(12)).toBe('fail');
  });

  test('the highlighter keeps comments across lines and tells calls from macros', () => {
    const a = tokenizeC('x = clone(fn, CLONE_NEWPID); /* start', false);
    expect(a.inComment).toBe(true);
    expect(a.tokens.find((t) => t.text === 'clone')?.kind).toBe('call');
    expect(a.tokens.find((t) => t.text === 'CLONE_NEWPID')?.kind).toBe('macro');
    const b = tokenizeC('   still a comment */ return 0;', true);
    expect(b.inComment).toBe(false);
    expect(b.tokens[0]!.kind).toBe('comment');
    expect(b.tokens.find((t) => t.text === 'return')?.kind).toBe('keyword');
    expect(callName('write(open("/proc/1/uid_map", O_WRONLY), "0 1 1", 5)')).toBe('write');
  });
});

describe('exec argv as one line of text', () => {
  test('splits at spaces and honours quotes', () => {
    expect(splitArgv('/bin/sh')).toEqual(['/bin/sh']);
    expect(splitArgv('  /bin/sh   -c  "echo hi there" ')).toEqual(['/bin/sh', '-c', 'echo hi there']);
    expect(splitArgv(`sh -c 'a "b"' c\\ d ""`)).toEqual(['sh', '-c', 'a "b"', 'c d', '']);
  });
  test('joining quotes only what needs it, and splits back to the same argv', () => {
    const argv = ['/bin/sh', '-c', "it's here", ''];
    expect(joinArgv(['/bin/sh', '-l'])).toBe('/bin/sh -l');
    expect(splitArgv(joinArgv(argv))).toEqual(argv);
  });
});

describe('terminal flow control', () => {
  test('pauses above the high watermark and resumes only below the low one', () => {
    const signals: boolean[] = [];
    const flow = new FlowControl((p) => signals.push(p), 100, 20);
    flow.queued(60);
    flow.queued(60);
    expect(signals).toEqual([true]);
    flow.queued(60);
    expect(signals).toEqual([true]);
    flow.drained(60);
    flow.drained(60);
    expect(signals).toEqual([true]);
    flow.drained(50);
    expect(signals).toEqual([true, false]);
    expect(flow.backlog).toBe(10);
  });
  test('a new connection starts unpaused without a resume', () => {
    const signals: boolean[] = [];
    const flow = new FlowControl((p) => signals.push(p), 10, 5);
    flow.queued(50);
    flow.reset();
    expect(flow.isPaused).toBe(false);
    expect(signals).toEqual([true]);
  });
});

describe('parameters, checked with the server schema before sending', () => {
  test('a good draft passes, a bad one names the field', () => {
    expect(validate('hostname', { name: 'box1' }, 'en').ok).toBe(true);
    const bad = validate('hostname', { name: 'no spaces allowed' }, 'en');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems[0]!.path).toBe('name');
    const flags = validate('clone', { flags: ['CLONE_NEWPID', 'CLONE_NEWBOGUS'] }, 'en');
    expect(!flags.ok && flags.problems[0]!.path).toBe('flags.1');
    expect(validate('clone', { flags: ['CLONE_NEWTIME'], timeOffsets: { boottimeSec: 864_000 } }, 'en').ok).toBe(true);
    const offset = validate('clone', { flags: ['CLONE_NEWTIME'], timeOffsets: { monotonicSec: 'ten days' } }, 'en');
    expect(!offset.ok && offset.problems[0]!.path).toBe('timeOffsets.monotonicSec');
  });
  test("zod's own messages follow the page's language", () => {
    const en = validate('mount', { fs: 'nfs' }, 'en');
    const zh = validate('mount', { fs: 'nfs' }, 'zh');
    expect(!en.ok && !zh.ok && en.problems[0]!.message !== zh.problems[0]!.message).toBe(true);
    expect(!zh.ok && /[\u4e00-\u9fff]/.test(zh.problems[0]!.message)).toBe(true);
  });
});

describe('small formats', () => {
  test('durations, sizes and namespace links', () => {
    expect(formatNs(850)).toBe('850 ns');
    expect(formatNs(12_400)).toBe('12.4 µs');
    expect(formatNs(1_290_000)).toBe('1.29 ms');
    expect(formatNs(250_000_000)).toBe('250 ms');
    expect(formatBytes(268435456)).toBe('256 MiB');
    expect(formatBytes(10485760)).toBe('10 MiB');
    expect(formatBytes(1000)).toBeNull();
    expect(inode('pid:[4026531836]')).toBe('4026531836');
    const units = { d: 'd', h: 'h', min: 'min', s: 's' };
    expect(formatOffset(864_000, units)).toBe('+10 d');
    expect(formatOffset(93_784, units)).toBe('+1 d 2 h');
    expect(formatOffset(-90, units)).toBe('−1 min 30 s');
    expect(formatOffset(0, units)).toBe('0 s');
    expect(formatWait(40, units)).toBe('40 s');
    expect(formatWait(100, units)).toBe('2 min');
    expect(formatWait(3600, units)).toBe('60 min');
  });
  test('deep links', () => {
    expect(parseHash('#/book/05-join-cpuset')).toEqual({ lesson: 'book', step: '05-join-cpuset' });
    expect(parseHash('#/book')).toEqual({ lesson: 'book', step: null });
    expect(parseHash('#/../etc')).toEqual({ lesson: null, step: null });
    expect(stepHash('book', '01-clone')).toBe('#/book/01-clone');
  });
  test('lesson Markdown renders, raw HTML in it does not', () => {
    expect(renderMarkdown('`clone()` is **fork()**')).toContain('<code>clone()</code>');
    const html = renderMarkdown('hi <script>alert(1)</script> <img src=x onerror=alert(1)>');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
  });
});

describe('which step the server checks tasks for', () => {
  const step = (id: string, tasks: number): LessonStep =>
    ({ id, kind: 'exec', title: { en: id, zh: id }, params: {}, expect: {}, body: { en: '', zh: '' }, tasks: Array.from({ length: tasks }, (_, i) => ({ id: `t${i}` })) }) as unknown as LessonStep;
  const ok = (...ids: string[]) => Object.fromEntries(ids.map((id) => [id, { ok: true } as StepResult]));
  const steps = [step('01-clone', 0), step('02-exec', 2), step('03-more', 0), step('04-again', 1)];

  test('none before a step with tasks has run', () => {
    expect(chooseWatched(steps, {}, null)).toBeNull();
    expect(chooseWatched(steps, ok('01-clone'), '02-exec')).toBeNull();
  });
  test('the furthest successful step with tasks, unless the student is on another one that qualifies', () => {
    expect(chooseWatched(steps, ok('01-clone', '02-exec'), null)).toBe('02-exec');
    expect(chooseWatched(steps, ok('01-clone', '02-exec', '03-more'), '03-more')).toBe('02-exec');
    expect(chooseWatched(steps, ok('01-clone', '02-exec', '03-more', '04-again'), null)).toBe('04-again');
    expect(chooseWatched(steps, ok('01-clone', '02-exec', '03-more', '04-again'), '02-exec')).toBe('02-exec');
  });
  test('a failed re-run takes the step out', () => {
    const results = { ...ok('01-clone', '03-more'), '02-exec': { ok: false } as StepResult };
    expect(chooseWatched(steps, results, '02-exec')).toBeNull();
  });
  test('changes between two reports, both ways', () => {
    expect(taskChanges(['a', 'b', 'c'], ['a'], ['a', 'b'])).toEqual([{ id: 'b', done: true }]);
    expect(taskChanges(['a', 'b'], ['a', 'b'], ['b'])).toEqual([{ id: 'a', done: false }]);
    expect(taskChanges(['a'], ['a'], ['a'])).toEqual([]);
  });
  test('task titles: inline Markdown on the page, plain words for a screen reader', () => {
    expect(renderInline('run `hostname box1` <b>now</b>')).toBe('run <code>hostname box1</code> &lt;b&gt;now&lt;/b&gt;');
    expect(spoken('run `hostname box1` **now**')).toBe('run hostname box1 now');
  });
});
