// The engine is built in layers, each folder one idea, and imports only point down: a
// folder may use the ones listed for it here and nothing above it. The page may use the
// protocol alone. docs/architecture.md draws the same picture.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = dirname(fileURLToPath(import.meta.url));
const WEB = resolve(SRC, '../../web/src');

const kernel = ['sys', 'protocol'];
const pieces = ['helper', 'cgroup', 'net', 'rootfs', ...kernel];
/** What each folder may import, besides itself. */
const MAY_USE: Record<string, string[]> = {
  protocol: [],
  sys: ['protocol'],
  helper: kernel,
  cgroup: kernel,
  net: kernel,
  rootfs: kernel,
  steps: pieces,
  session: ['steps', ...pieces],
  lessons: ['rootfs', 'cgroup', 'protocol'],
  export: ['rootfs', 'cgroup', 'protocol'],
  course: ['lessons', 'session', 'steps', ...pieces],
  hostview: ['session', 'steps', ...pieces],
  server: ['hostview', 'export', 'course', 'lessons', 'session', 'steps', ...pieces],
  workshop: ['server', 'hostview', 'export', 'course', 'lessons', 'session', 'steps', ...pieces],
  cli: ['workshop', 'server', 'hostview', 'export', 'course', 'lessons', 'session', 'steps', ...pieces],
};

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name), ext) : ext.test(e.name) ? [join(dir, e.name)] : []));
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?from '(\.[^']+)'/gms)].map((m) => resolve(dirname(file), m[1]!));
}

it('every folder of the engine is in the drawing', () => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  expect(folders.sort()).toEqual(Object.keys(MAY_USE).sort());
});

it('imports in the engine only point down', () => {
  const wrong: string[] = [];
  for (const file of files(SRC, /\.ts$/).filter((f) => !f.endsWith('.test.ts'))) {
    const from = relative(SRC, file).split('/')[0]!;
    for (const target of imports(file)) {
      const to = relative(SRC, target).split('/')[0]!;
      if (to !== from && !MAY_USE[from]?.includes(to)) wrong.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
    }
  }
  expect(wrong).toEqual([]);
});

it('the page imports nothing of the engine but the protocol', () => {
  const wrong: string[] = [];
  for (const file of files(WEB, /\.(ts|svelte)$/)) {
    for (const target of imports(file)) {
      if (target.startsWith(WEB)) continue;
      if (!relative(SRC, target).startsWith('protocol/')) wrong.push(`${relative(WEB, file)} → ${relative(SRC, target)}`);
    }
  }
  expect(wrong).toEqual([]);
});
