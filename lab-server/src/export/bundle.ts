// Writes what a student built to a folder they can take home: an OCI bundle (config.json and
// rootfs/, for `runc run` or `crun run`) and run.sh, the same container by util-linux.
import { execFile } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CgroupHost } from '../cgroup/detect.ts';
import { imageDir, shiftedImage } from '../rootfs/images.ts';
import { ociConfig, toJson } from './oci.ts';
import { scriptLeftOut, shellScript } from './script.ts';
import type { ContainerSpec } from './spec.ts';

export interface BundleOptions {
  lesson: string;
  cgroupsPath: string;
  /** The disk a blkio limit without a device applies to. */
  disk?: string;
}

/**
 * Where a runtime should make the bundle's groups: under this process's own group in every
 * hierarchy. runc and crun use one path for all of them, so it is the deepest own group,
 * when every other is above it (always so on v2, which has one).
 */
export function defaultCgroupsPath(host: CgroupHost, name: string): string {
  const owns = [...new Set(host.hierarchies.map((h) => h.own.replace(/\/$/, '')))];
  const deepest = owns.reduce((a, b) => (b.length > a.length ? b : a), '');
  const under = owns.every((o) => deepest === o || deepest.startsWith(`${o}/`) || o === '');
  if (!under) throw new Error(`this process's groups differ between hierarchies (${owns.join(', ')}): give the bundle's cgroups path yourself (--cgroups-path)`);
  return `${deepest}/${name}`;
}

/** The image the container stood on: with a user namespace, the copy whose owners are shifted to the ids container root maps to. */
function rootfsSource(spec: ContainerSpec): string {
  const root = spec.idmap?.uid.find((l) => l.inside === 0);
  return root && root.outside !== 0 ? shiftedImage(spec.image, root.outside) : imageDir(spec.image);
}

/** Writes the bundle. Asynchronous throughout: a server that exports keeps serving its other tabs while an image is copied. */
export async function writeBundle(dir: string, spec: ContainerSpec, opts: BundleOptions): Promise<void> {
  if ((await readdir(dir).catch(() => [])).length > 0) throw new Error(`${dir} is not empty: export into a new folder`);
  await mkdir(dir, { recursive: true });
  // cp -a keeps owners, modes and device nodes, which a user namespace's map depends on.
  await promisify(execFile)('cp', ['-a', '--reflink=auto', rootfsSource(spec), join(dir, 'rootfs')]);
  await writeFile(join(dir, 'config.json'), toJson(ociConfig(spec, { cgroupsPath: opts.cgroupsPath, defaultDisk: opts.disk })));
  await writeFile(join(dir, 'run.sh'), shellScript(spec, { lesson: opts.lesson, disk: opts.disk }), { mode: 0o755 });
  await writeFile(join(dir, 'README.md'), readme(spec, opts));
}

function readme(spec: ContainerSpec, opts: BundleOptions): string {
  const left = scriptLeftOut(spec);
  return `# The container of the lesson "${opts.lesson}"

Built step by step in stepbox, written out to run again without it. As root, from this folder:

    runc run ${opts.lesson}       # or: crun run ${opts.lesson}
    bash run.sh                   # util-linux and coreutils only

\`config.json\` is an OCI runtime bundle's configuration: each field is one of the lesson's
steps (the page shows which beside each step). \`rootfs/\` is the image the container stood on.

The runtime makes its cgroups at \`linux.cgroupsPath\` (${opts.cgroupsPath}) in each hierarchy and
removes them when the container is deleted; change it to put them elsewhere.
${spec.root === 'chroot' ? '\nThe lesson gave the container its root with chroot(2) alone; a runtime enters its root with pivot_root(2), or with `--no-pivot` by moving the root mount and chroot(2).\n' : ''}${left.length ? `\nWhat run.sh does not carry over (the bundle carries all but the first ${spec.leftOut.length}):\n\n${left.map((l) => `- ${l.en}`).join('\n')}\n` : ''}`;
}
