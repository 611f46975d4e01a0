// Lessons may say what is true on the host, but may not send the student there: the page
// has no shell on the host, only the Host tab. The rule, sentence by sentence, and lint's
// message for a lesson that breaks it.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { hostInstructions } from './host-instructions.ts';
import { lintLessons } from './lint.ts';

describe('instructions to look on the host (en)', () => {
  test.each([
    'The host keeps its name: run `hostname` on the host to see.',
    'On the host, `ip addr show` lists the host end.',
    '`nproc` on the host tells you how many CPUs your machine has.',
    'Read `net_prio.ifpriomap` back on the host and it lists every interface.',
    'Then one `mkdir`, and nothing to write: list the new directory on the host and you find only four files.',
    'Run `cat /proc/uptime` here and in a terminal on the host: the first number differs.',
    'Save it (then compare uptime here and on the host)',
    'Rename it, then look at the host: nothing changed there.',
    'Check **cpu.stat** on the host after the loop.',
  ])('flags: %s', (s) => {
    expect(hostInstructions(s, 'en')).toHaveLength(1);
  });

  test.each([
    'Uid 0 inside is uid 100000 on the host.',
    'Root in the container has every capability inside its namespaces, but on the host it is just uid 100000.',
    'The lab reads cpu.stat of the session\'s group on the host: nr_throttled counts the periods.',
    'Look at the **Kernel state** panel. `/proc/<pid>/root`, read on the host, now names the rootfs directory.',
    'Now try what root could do on the host:',
    'It would limit what the escaped shell may do on the host, since it acts with an unprivileged uid.',
    'A mount inside stays inside, and a mount on the host stays on the host.',
    'The host keeps its name: the **Host** tab beside the terminal shows the host\'s name next to the container\'s.',
    'Run `hostname` on the host; the Host tab beside the terminal shows it.',
  ])('lets pass: %s', (s) => {
    expect(hostInstructions(s, 'en')).toEqual([]);
  });

  test('a lead-in to commands typed on the host, unless it names the Host tab', () => {
    expect(hostInstructions('The counters tell a story, on the host:\n\n```\n$ cat cpu.stat\n```\n', 'en')).toHaveLength(1);
    expect(hostInstructions('The counters tell a story; the Host tab beside the terminal shows them:\n\n```\n$ cat cpu.stat\n```\n', 'en')).toEqual([]);
  });

  test('what is inside a code block is not prose', () => {
    expect(hostInstructions('Type:\n\n```\n# run hostname on the host to compare\n```\n', 'en')).toEqual([]);
  });
});

describe('instructions to look on the host (zh)', () => {
  test.each([
    '宿主机的主机名不变：在宿主机上运行 `hostname` 看看。',
    '在宿主机上，`ip addr show` 会列出宿主机这一端。',
    '在宿主机上读回 `net_prio.ifpriomap`，列出的是宿主机的每一块网卡。',
    '改个名字，再看看宿主机：那里什么都没变。',
    '保存它（再比较这里和宿主机上的 uptime）',
    '两条都跑完之后，在宿主机上看：',
  ])('flags: %s', (s) => {
    expect(hostInstructions(s, 'zh')).toHaveLength(1);
  });

  test.each([
    '容器里的 uid 0 就是宿主机上的 uid 100000。',
    '本实验在宿主机上读取会话所在组的 cpu.stat。',
    '这一步不是容器自己做的：实验服务器在宿主机上用 iproute2 完成它。',
    '在宿主机上读取的 `/proc/<pid>/root` 现在指向 rootfs 目录。',
    '在内核面板里，比较**控制组**一节——那是宿主机读到的 `/proc/<pid>/cgroup`。',
    '宿主机的主机名不变：终端旁边的“宿主机”标签页把宿主机的名字和容器的名字并排列出。',
  ])('lets pass: %s', (s) => {
    expect(hostInstructions(s, 'zh')).toEqual([]);
  });
});

describe('lessons lint', () => {
  test('names the file, the language and the sentence, and says what to write instead', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stepbox-hostlint-'));
    try {
      mkdirSync(join(dir, 'tiny'));
      writeFileSync(join(dir, 'tiny', 'lesson.md'), '---\ntitle:\n  en: A tiny lesson\n  zh: 一堂很小的课\n---\n::: en\nOne step.\n:::\n::: zh\n只有一步。\n:::\n');
      writeFileSync(
        join(dir, 'tiny', '01-clone.md'),
        '---\nkind: clone\ntitle:\n  en: Clone\n  zh: 调用 clone\nparams:\n  flags: [CLONE_NEWUTS]\n---\n::: en\nThe child gets its own name. Run `hostname` on the host to see.\n:::\n::: zh\n子进程有了自己的主机名。在宿主机上运行 `hostname` 看看。\n:::\n',
      );
      const problems = lintLessons(dir).lessons[0]!.problems;
      const host = problems.filter((p) => p.message.includes('on the host'));
      expect(host.map((p) => p.file)).toEqual(['tiny/01-clone.md', 'tiny/01-clone.md']);
      expect(host[0]!.message).toMatch(/^the body \(en\): "Run `hostname` on the host to see\." tells the student .* Host tab beside the terminal/);
      expect(host[1]!.message).toMatch(/^the body \(zh\): "在宿主机上运行 `hostname` 看看。" .*“宿主机”标签页/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
