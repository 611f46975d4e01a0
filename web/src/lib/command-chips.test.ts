import { describe, expect, test } from 'vitest';
import { commandOf } from './command-chips.ts';
import { renderInline, renderMarkdown } from './markdown.ts';

const words = { shell: true, type: 'Type {cmd} in the shell', copy: 'Copy {cmd}' };

describe('which code spans are commands to type', () => {
  test('a span the lesson marks with "$ " is one; other code is not', () => {
    expect(commandOf('$ cat /proc/self/cgroup')).toBe('cat /proc/self/cgroup');
    expect(commandOf('$ echo $$')).toBe('echo $$');
    expect(commandOf('hostname')).toBeNull();
    expect(commandOf('/proc/self/cgroup')).toBeNull();
    expect(commandOf('$HOME')).toBeNull();
    expect(commandOf('$ ')).toBeNull();
  });

  test('nothing that would press a key of its own: no control characters, no endless line', () => {
    expect(commandOf('$ ls\u0003')).toBeNull();
    expect(commandOf('$ ls\tx')).toBeNull();
    expect(commandOf(`$ ${'a'.repeat(201)}`)).toBeNull();
  });
});

describe('commands in lesson text', () => {
  test('with a shell, a command is a button that types it and a copy button, both labelled', () => {
    const html = renderMarkdown('Try `$ cat /proc/self/cgroup` and `hostname`.', words);
    expect(html).toContain(
      '<span class="cmd"><button type="button" class="cmd-type" data-command="cat /proc/self/cgroup" aria-label="Type cat /proc/self/cgroup in the shell" title="Type cat /proc/self/cgroup in the shell"><code>cat /proc/self/cgroup</code></button>',
    );
    expect(html).toContain('<button type="button" class="cmd-copy" data-copy="cat /proc/self/cgroup" aria-label="Copy cat /proc/self/cgroup"');
    // Code that is not marked stays code.
    expect(html).toContain('and <code>hostname</code>.');
  });

  test('without a shell it is code with a copy button, and nothing types', () => {
    const html = renderInline('`$ ps`', { ...words, shell: false });
    expect(html).not.toContain('cmd-type');
    expect(html).toMatch(/^<span class="cmd"><code>ps<\/code><button type="button" class="cmd-copy" data-copy="ps"/);
  });

  test('a command cannot break out of its attribute or inject markup', () => {
    const html = renderMarkdown('`$ echo "<img src=x onerror=alert(1)>"`', words);
    expect(html).not.toMatch(/<img/);
    expect(html).toContain('data-command="echo &quot;&lt;img src=x onerror=alert(1)&gt;&quot;"');
  });

  test('without words, a marked span is shown as written', () => {
    expect(renderInline('`$ ps`')).toBe('<code>$ ps</code>');
  });
});
