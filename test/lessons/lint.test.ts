// `stepbox lessons lint` finds each mistake an instructor can make: a small lesson that
// lints clean is written to a temp folder, each test breaks one thing in it, and the
// error must name the file and say what is wrong. The lessons in lessons/ lint clean.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { knownImages, lintLessons, type Problem } from '../../lab-server/src/lessons/lint.ts';

const both = (en: string, zh: string) => `::: en\n${en}\n:::\n::: zh\n${zh}\n:::\n`;

/** A lesson that lints clean: clone, a pids cgroup, a shell with two tasks. */
const TINY: Record<string, string> = {
  'lesson.md': `---
title:
  en: A tiny lesson
  zh: 一堂很小的课
image: busybox
---
${both('Three steps, from clone to a shell. Start at [the clone](#/tiny/01-clone).', '三步，从 clone 到 shell。从 [clone](#/tiny/01-clone) 开始。')}`,
  '01-clone.md': `---
kind: clone
title:
  en: Clone with a new UTS namespace
  zh: 带着新的 UTS 命名空间调用 clone
params:
  flags: [CLONE_NEWUTS]
expect:
  newNamespaces: [uts]
---
${both('The child gets its own host name.', '子进程得到自己的主机名。')}`,
  '02-cgroup-create.md': `---
kind: cgroup-create
title:
  en: A pids group
  zh: 一个 pids 控制组
params:
  controllers: [pids]
  limits: [{ controller: pids, max: 8 }]
expect:
  limit: { controller: pids, file: pids.max, value: "8" }
---
${both('At most eight processes.', '最多八个进程。')}`,
  '03-exec.md': `---
kind: exec
title:
  en: A shell
  zh: 一个 shell
params:
  argv: [/bin/sh]
tasks:
  - id: rename
    title: { en: Rename the container box1, zh: 把容器改名为 box1 }
    hint: { en: "hostname box1", zh: 用 hostname 命令 }
    check: { kind: inside, argv: [hostname], equals: box1 }
    solution: hostname box1
  - id: limit
    title: { en: Read the limit, zh: 读出上限 }
    hint: { en: The lab reads pids.max on the host, zh: 本实验在宿主机上读取 pids.max }
    check: { kind: file, path: "{cgroup:pids}/pids.max", matches: '^\\d+$' }
    solution: cat /proc/self/cgroup
---
${both('Rename it; see it on the host: #/tiny/03-exec.', '改个名字，再看宿主机：#/tiny/03-exec。')}`,
};

let dir: string;
const at = (f: string) => join(dir, 'tiny', f);

function edit(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(at(file), 'utf8');
  const next = text.replace(from, () => to);
  if (next === text) throw new Error(`${file}: "${from}" not found`);
  writeFileSync(at(file), next);
}

const problems = (): Problem[] => lintLessons(dir).lessons.flatMap((l) => l.problems);
const errors = () => problems().filter((p) => p.level === 'error');

function expectError(file: string, message: RegExp): void {
  const all = errors();
  expect(all, JSON.stringify(all, null, 1)).toContainEqual({ level: 'error', file: `tiny/${file}`, message: expect.stringMatching(message) });
}

const stepbox = (...args: string[]) => spawnSync('node', ['lab-server/bin/stepbox.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stepbox-lint-'));
  mkdirSync(join(dir, 'tiny'));
  for (const [f, text] of Object.entries(TINY)) writeFileSync(at(f), text);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('lessons lint', () => {
  it('passes the small lesson, so each error below comes from what the test broke', () => {
    expect(problems()).toEqual([]);
  });

  it('passes every lesson in lessons/', () => {
    const r = lintLessons();
    expect(r.lessons.length).toBeGreaterThan(0);
    const bad = r.lessons.flatMap((l) => l.problems).filter((p) => p.level === 'error');
    expect(bad.map((p) => `${p.file}: ${p.message}`)).toEqual([]);
  });

  it('a group file of one cgroup version must say which: in an expectation, and in a file check', () => {
    edit('02-cgroup-create.md', '  limits: [{ controller: pids, max: 8 }]', '  limits: [{ controller: pids, max: 8 }, { controller: memory, maxBytes: 1048576 }]');
    edit('02-cgroup-create.md', 'controllers: [pids]', 'controllers: [pids, memory]');
    edit('02-cgroup-create.md', 'limit: { controller: pids, file: pids.max, value: "8" }', 'limit: { controller: memory, file: memory.limit_in_bytes, value: "1048576" }');
    edit('03-exec.md', '"{cgroup:pids}/pids.max"', '"{cgroup:pids}/tasks"');
    expectError('02-cgroup-create.md', /expect\.limit: memory\.limit_in_bytes is a cgroup v1 file: write v1: \{ file: memory\.limit_in_bytes/);
    expectError('03-exec.md', /task "limit": tasks is a cgroup v1 file: say so with cgroup: 1/);
  });

  it('v1 and v2 forms of an expectation: each file on its own version, and one the lab reads back', () => {
    edit('02-cgroup-create.md', '  limits: [{ controller: pids, max: 8 }]', '  limits: [{ controller: pids, max: 8 }, { controller: memory, maxBytes: 1048576 }]');
    edit('02-cgroup-create.md', 'controllers: [pids]', 'controllers: [pids, memory]');
    edit('02-cgroup-create.md', 'limit: { controller: pids, file: pids.max, value: "8" }', 'limit: { controller: memory, v1: { file: memory.max, value: "1048576" }, v2: { file: memory.high, value: "1048576" } }');
    expectError('02-cgroup-create.md', /expect\.limit\.v1: memory\.max is a cgroup v2 file/);
    expectError('02-cgroup-create.md', /expect\.limit\.v2: the lab does not read memory\.high back on cgroup v2; for memory it reads memory\.max, memory\.current/);
    edit('02-cgroup-create.md', 'v1: { file: memory.max, value: "1048576" }, v2: { file: memory.high, value: "1048576" }', 'v1: { file: memory.limit_in_bytes, value: "1048576" }, v2: { file: memory.max, value: "1048576" }');
    expect(errors()).toEqual([]);
  });

  it('unknown step kinds, with the nearest name', () => {
    edit('01-clone.md', 'kind: clone', 'kind: clonee');
    expectError('01-clone.md', /unknown step kind "clonee" \(did you mean clone\?\)/);
  });

  it('unknown front matter fields, in a step and in lesson.md', () => {
    edit('01-clone.md', 'kind: clone', 'kind: clone\ntitel: x');
    edit('lesson.md', 'image: busybox', 'image: busybox\nauthor: someone');
    expectError('01-clone.md', /unknown field "titel" \(did you mean title\?\)/);
    expectError('lesson.md', /unknown field "author"/);
  });

  it("params that fail the kind's schema, and parameters the kind does not take", () => {
    edit('01-clone.md', '[CLONE_NEWUTS]', '[CLONE_NEWUTX]');
    edit('03-exec.md', 'argv: [/bin/sh]', 'args: [/bin/sh]');
    expectError('01-clone.md', /^params\.flags\[0\]: /);
    expectError('03-exec.md', /"args" is not a parameter of exec \(did you mean argv\?\)/);
  });

  it('unknown expectation keys and unknown task fields', () => {
    edit('01-clone.md', 'newNamespaces: [uts]', 'newNamespace: [uts]');
    edit('03-exec.md', 'solution: hostname box1', 'solution: hostname box1\n    answer: box1');
    expectError('01-clone.md', /expect: unknown key "newNamespace" \(did you mean newNamespaces\?\)/);
    expectError('03-exec.md', /task "rename": unknown field "answer"/);
  });

  it('a missing, empty or unclosed section', () => {
    edit('01-clone.md', /::: zh\n[\s\S]*?\n:::\n/, '');
    edit('02-cgroup-create.md', 'At most eight processes.', '');
    edit('03-exec.md', /:::\n$/, '');
    expectError('01-clone.md', /no "::: zh" section/);
    expectError('02-cgroup-create.md', /the "::: en" section is empty/);
    expectError('03-exec.md', /"::: zh" section opened on line \d+ is never closed/);
  });

  it('a section marker that is not en or zh, and a stray :::', () => {
    edit('01-clone.md', '::: zh', '::: fr');
    edit('02-cgroup-create.md', /:::\n$/, ':::\n:::\n');
    expectError('01-clone.md', /"::: fr" is not a language of the lab/);
    expectError('02-cgroup-create.md', /::: closes a section that was never opened/);
  });

  it('titles and hints in one language only', () => {
    edit('01-clone.md', '  zh: 带着新的 UTS 命名空间调用 clone\n', '');
    edit('03-exec.md', 'hint: { en: "hostname box1", zh: 用 hostname 命令 }', 'hint: { en: "hostname box1" }');
    edit('lesson.md', '  en: A tiny lesson\n', '');
    expectError('01-clone.md', /^title is in English only/);
    expectError('03-exec.md', /^task "rename" hint is in English only/);
    expectError('lesson.md', /^title is in Chinese only/);
  });

  it('a body that is obviously not translated', () => {
    edit('01-clone.md', '子进程得到自己的主机名。', 'The child gets its own host name.');
    edit('02-cgroup-create.md', '最多八个进程。', 'No more than eight processes.');
    edit('03-exec.md', 'title:\n  en: A shell\n  zh: 一个 shell', 'title:\n  en: Start a shell for the student to use\n  zh: Start a shell for the student to use');
    expectError('01-clone.md', /the body: the en and zh texts are the same/);
    expectError('02-cgroup-create.md', /the body: the zh text has no Chinese characters/);
    expectError('03-exec.md', /title: the en and zh texts are the same/);
  });

  it('a command as a title may read the same in both languages', () => {
    edit('03-exec.md', 'title:\n  en: A shell\n  zh: 一个 shell', 'title:\n  en: "exec /bin/sh"\n  zh: "exec /bin/sh"');
    expect(errors()).toEqual([]);
  });

  it('step files not named NN-name.md', () => {
    writeFileSync(at('4-extra.md'), TINY['01-clone.md']!);
    writeFileSync(at('04_Extra.md'), TINY['01-clone.md']!);
    expectError('4-extra.md', /named NN-name\.md/);
    expectError('04_Extra.md', /named NN-name\.md/);
  });

  it('duplicate, gapped and late-starting numbers', () => {
    writeFileSync(at('02-again.md'), TINY['02-cgroup-create.md']!);
    renameSync(at('03-exec.md'), at('05-exec.md'));
    expectError('02-cgroup-create.md', /two steps share the number 02: 02-again\.md and 02-cgroup-create\.md/);
    expectError('05-exec.md', /no step numbered 03, 04 between 02-again\.md and 05-exec\.md/);
    renameSync(at('01-clone.md'), at('00-clone.md'));
    expectError('00-clone.md', /the steps start at 00; number them from 01/);
  });

  it('deep links to lessons and steps that do not exist', () => {
    edit('01-clone.md', 'The child gets its own host name.', 'See #/tiny/09-mount and #/tinny/01-clone, and (tiny:07-exec).');
    expectError('01-clone.md', /body links to #\/tiny\/09-mount, but lesson tiny has no step "09-mount"/);
    expectError('01-clone.md', /body links to #\/tinny\/01-clone, but there is no lesson "tinny" \(did you mean tiny\?\)/);
    expectError('01-clone.md', /body links to \(tiny:07-exec\), but lesson tiny has no step "07-exec"/);
  });

  it('task ids used twice in one lesson', () => {
    edit('02-cgroup-create.md', 'expect:', `tasks:
  - id: limit
    title: { en: Read the limit, zh: 读出上限 }
    hint: { en: It is in pids.max, zh: 它在 pids.max 里 }
    check: { kind: file, path: "{cgroup:pids}/pids.max", equals: "8" }
    solution: "true"
expect:`);
    expectError('03-exec.md', /task id "limit" is used twice in this lesson \(also in 02-cgroup-create\.md\)/);
  });

  it('{cgroup:X} in a check, expect.inCgroup, expect.limit and cgroup-join need a cgroup-create of X before', () => {
    edit('03-exec.md', '{cgroup:pids}/pids.max', '{cgroup:memory}/memory.max');
    edit('02-cgroup-create.md', 'controller: pids, file', 'controller: cpu, file');
    edit('01-clone.md', 'newNamespaces: [uts]', 'newNamespaces: [uts]\n  inCgroup: pids');
    writeFileSync(at('04-join.md'), `---\nkind: cgroup-join\ntitle: { en: Join the memory group, zh: 加入 memory 控制组 }\nparams: { controller: memory }\n---\n${both('Join.', '加入。')}`);
    expectError('03-exec.md', /task "limit"'s check \(\{cgroup:memory\}\) needs the memory cgroup, but no cgroup-create step in this lesson creates it/);
    expectError('02-cgroup-create.md', /expect\.limit needs the cpu cgroup, but no cgroup-create step/);
    expectError('01-clone.md', /expect\.inCgroup needs the pids cgroup, but it is created only later, in 02-cgroup-create\.md/);
    expectError('04-join.md', /joining the memory cgroup needs the memory cgroup, but no cgroup-create step/);
  });

  it('a limit in cgroup-create for a controller the step does not create', () => {
    edit('02-cgroup-create.md', 'limits: [{ controller: pids, max: 8 }]', 'limits: [{ controller: pids, max: 8 }, { controller: memory, maxBytes: 1000000 }]');
    expectError('02-cgroup-create.md', /params: a memory limit needs a memory group: add memory to this step's controllers/);
  });

  it('an image that rootfs-images/build.sh does not build', () => {
    expect(knownImages()).toEqual(expect.arrayContaining(['busybox', 'debian']));
    edit('lesson.md', 'image: busybox', 'image: alpine');
    expectError('lesson.md', /image "alpine" is not one that rootfs-images\/build\.sh builds; it builds: busybox, debian/);
  });

  it('an inside check, or {pid}, on a step before the container process exists', () => {
    const early = `tasks:
  - id: early
    title: { en: Read the host name, zh: 读出主机名 }
    hint: { en: Run hostname, zh: 运行 hostname }
    check: { kind: inside, argv: [hostname], matches: "." }
    solution: hostname
  - id: status
    title: { en: Read its status, zh: 读出它的状态 }
    hint: { en: The lab reads /proc/PID/status, zh: 本实验读取 /proc/PID/status }
    check: { kind: file, path: "/proc/{pid}/status", matches: "^Uid" }
    solution: "true"
expect:`;
    // On the clone step itself they are fine: the page checks a step's tasks once it has run.
    edit('01-clone.md', 'expect:', early);
    expect(errors()).toEqual([]);
    // A step before the clone has no process to look at.
    const clone = readFileSync(at('01-clone.md'), 'utf8');
    writeFileSync(at('01-clone.md'), readFileSync(at('02-cgroup-create.md'), 'utf8').replace('expect:', early));
    writeFileSync(at('02-cgroup-create.md'), clone.replace(/tasks:[\s\S]*?expect:/, 'expect:'));
    expectError('01-clone.md', /task "early" checks inside the container, but no container process exists before 02-cgroup-create\.md; put the task on 02-cgroup-create\.md or a later step/);
    expectError('01-clone.md', /task "status"'s check reads \{pid\}, but no container process exists before 02-cgroup-create\.md/);
    // Without any clone step, no step has a process.
    unlinkSync(at('02-cgroup-create.md'));
    writeFileSync(at('02-hostname.md'), `---\nkind: hostname\ntitle: { en: Name it, zh: 给它起名 }\nparams: { name: box1 }\n---\n${both('Name.', '起名。')}`);
    expectError('03-exec.md', /task "rename" checks inside the container, but this lesson has no clone step, so there is never a container process; add a clone step before it/);
  });

  it('a regular expression in matches that does not compile', () => {
    edit('03-exec.md', `matches: '^\\d+$'`, `matches: '^(\\d+$'`);
    expectError('03-exec.md', /task "limit": matches "\^\(\\\\d\+\$" is not a regular expression/);
  });

  it('front matter that is not YAML, and a file without front matter', () => {
    edit('01-clone.md', 'flags: [CLONE_NEWUTS]', 'flags: [CLONE_NEWUTS');
    writeFileSync(at('04-bare.md'), both('No front matter.', '没有前置字段。'));
    expectError('01-clone.md', /the front matter is not valid YAML \(line \d+\)/);
    expectError('04-bare.md', /no front matter/);
  });

  it("whatever else the loader refuses (here: more than eight tasks on a step)", () => {
    const tasks = Array.from({ length: 9 }, (_, i) => `  - id: t${i}
    title: { en: Task number ${i}, zh: 第 ${i} 个任务 }
    hint: { en: Run hostname, zh: 运行 hostname }
    check: { kind: inside, argv: [hostname], equals: box${i} }
    solution: hostname box${i}
`).join('');
    edit('03-exec.md', /tasks:\n[\s\S]*?\n---/, `tasks:\n${tasks}---`);
    expectError('03-exec.md', /tasks/);
  });

  it('the command exits 0 on a clean folder, 1 with the file and a summary on a broken one', () => {
    const ok = stepbox('lessons', 'lint', '--dir', dir);
    expect(ok.status, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/^✓ tiny: 3 steps$/m);
    expect(ok.stdout).toMatch(/^lessons lint: 1 lesson, 4 files: no problems$/m);
    edit('01-clone.md', 'kind: clone', 'kind: clonee');
    const bad = stepbox('lessons', 'lint', '--dir', dir, 'tiny');
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^✗ tiny\/01-clone\.md: unknown step kind "clonee"/m);
    expect(bad.stdout.trim().split('\n').at(-1)).toMatch(/^lessons lint: 1 lesson, 4 files: \d+ errors? \(in tiny\)$/);
  });
});
