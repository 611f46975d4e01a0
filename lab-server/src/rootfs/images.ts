// Root filesystem images: read-only lower layers that every session overlays.
//
// With a user namespace that maps container uid 0 to host uid 100000, files owned by host
// root would show up as nobody (65534) inside and root could not write to /. The lab
// keeps a second copy of the image whose owners are shifted by the map's base (what
// `lchown` of every file to uid+base does), made once and cached; an idmapped mount would
// do the same without a copy, but a 2 MB copy is simpler to read and to clean.
import { chmodSync, copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const IMAGES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../rootfs-images');
const BUILD_DIR = join(IMAGES_DIR, 'build');

export function imageDir(name: string): string {
  return join(BUILD_DIR, name);
}

export function imageExists(name: string): boolean {
  return existsSync(join(imageDir(name), '.stepbox-image'));
}

/** The image with every owner shifted up by `base`, building it on first use. */
export function shiftedImage(name: string, base: number): string {
  const dir = `${imageDir(name)}@${base}`;
  const stamp = (d: string) => statSync(join(d, '.stepbox-image'), { throwIfNoEntry: false })?.mtimeMs ?? -1;
  // A copy older than its image (rebuilt since) is made again.
  if (stamp(dir) >= stamp(imageDir(name))) return dir;
  const tmp = `${dir}.tmp.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  copyShifted(imageDir(name), tmp, base);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/**
 * Copy a tree with every owner moved up by `base`. Device nodes and fifos are left out:
 * the container gets its /dev from the mount step, and a user namespace could not use
 * them anyway.
 */
function copyShifted(src: string, dst: string, base: number): void {
  const st = lstatSync(src);
  if (st.isDirectory()) {
    mkdirSync(dst);
    for (const e of readdirSync(src)) copyShifted(join(src, e), join(dst, e), base);
  } else if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dst);
  } else if (st.isFile()) {
    copyFileSync(src, dst);
  } else {
    return;
  }
  lchownSync(dst, st.uid + base, st.gid + base);
  // chown clears setuid and setgid bits: put the image's mode back.
  if (!st.isSymbolicLink()) chmodSync(dst, st.mode & 0o7777);
}

/** The whole disk behind a path as MAJOR:MINOR: block throttles apply to disks, not partitions. */
function diskOf(path: string): string {
  const dev = statSync(path).dev;
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | ((Math.floor(dev / 1048576) & 0xfff00) >>> 0);
  const partition = join('/sys/dev/block', `${major}:${minor}`, 'partition');
  if (existsSync(partition)) {
    const parentDev = join('/sys/dev/block', `${major}:${minor}`, '..', 'dev');
    if (existsSync(parentDev)) return readFileSync(parentDev, 'utf8').trim();
  }
  return `${major}:${minor}`;
}

/**
 * The disk a block throttle applies to when the student names none: the one holding the
 * images, or (on a machine whose images live on a network or virtual filesystem) the
 * first real disk the kernel lists.
 */
export function defaultDisk(path: string): string {
  const own = diskOf(path);
  if (existsSync(join('/sys/dev/block', own))) return own;
  const disks = readdirSync('/sys/block').filter((d) => !/^(loop|ram|zram|sr|fd)/.test(d));
  for (const d of disks) {
    const dev = join('/sys/block', d, 'dev');
    if (existsSync(dev)) return readFileSync(dev, 'utf8').trim();
  }
  return own;
}
