// The lab server as one JavaScript file, built ahead of time: a server started by
// `stepbox` runs plain JavaScript, with no TypeScript loader hooked into every import.
//
// The file lands in lab-server/dist/cli/, two folders below lab-server/ as the sources in
// lab-server/src/<folder>/ are: the paths the sources resolve from their own location
// (lessons/, web/dist/, native/build/stepper, bin/stepbox.mjs) hold unchanged.
//
//   node lab-server/bin/build.mjs     # build now
//   ensureBuilt()                     # build only if a source is newer than the output
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LAB = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(LAB, 'src');
export const OUT = join(LAB, 'dist/cli/stepbox.mjs');

/** The newest modification time among the server's sources and this build script. */
function newestSource(dir = SRC, newest = statSync(fileURLToPath(import.meta.url)).mtimeMs) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = newestSource(p, newest);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function builtAt() {
  try {
    return statSync(OUT).mtimeMs;
  } catch {
    return -1;
  }
}

export async function build() {
  // esbuild is loaded only when something must be built: a server that is up to date
  // starts without it.
  const { build: esbuild } = await import('esbuild');
  const result = await esbuild({
    entryPoints: [join(SRC, 'cli/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // node-pty and koffi are native addons, and every package is installed beside us anyway.
    packages: 'external',
    sourcemap: 'linked',
    outfile: OUT,
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(dirname(OUT), { recursive: true });
  // Several `stepbox` commands may start at once: each writes its own files and renames
  // them into place, so none ever imports a half-written one.
  for (const f of result.outputFiles) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
}

/** The built server's path, built first if any source changed since. */
export async function ensureBuilt() {
  if (builtAt() < newestSource()) await build();
  return OUT;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
