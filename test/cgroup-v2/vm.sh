#!/usr/bin/env bash
# test/cgroup-v2/vm.sh - run one command inside a throw-away cgroup-v2-only VM.
#
# The VM is Debian's stock 6.1 kernel plus a tiny busybox initramfs, booted
# under qemu with software emulation (TCG). The host's root filesystem is
# shared read-only over virtio-9p and a tmpfs-backed overlay is put on top,
# so node, node_modules and the project are visible at their host paths and
# the VM can still write (writes are thrown away at power-off).
#
# Usage: test/cgroup-v2/vm.sh [options] -- <command...>
# Run with --help for the options. See README.md beside this file.

set -euo pipefail

readonly SELF="${BASH_SOURCE[0]}"
readonly PROG="vm.sh"
HERE="$(cd "$(dirname "$SELF")" && pwd -P)"
readonly HERE
PROJECT_ROOT="$(cd "$HERE/../.." && pwd -P)"
readonly PROJECT_ROOT

CACHE="${STEPBOX_VM_CACHE:-/var/cache/stepbox-vm}"
TIMEOUT="${STEPBOX_VM_TIMEOUT:-600}"
MEM="${STEPBOX_VM_MEM:-2048}"
CPUS="${STEPBOX_VM_CPUS:-2}"
# Modules loaded at boot besides the ones the VM itself needs (virtio-pci,
# 9p, overlay, virtio-rng). Space separated module names; dependencies are
# resolved automatically. There is no modprobe inside the VM, so anything a
# test needs from a module has to be listed here.
EXTRA_MODULES="${STEPBOX_VM_MODULES-veth bridge null_blk loop zram}"
CWD="$PROJECT_ROOT"
CGROUP=""
SWAP_MB=0
LOG_COPY=""
BUILD_ONLY=0
ENV_VARS=()
KEEP_PATHS=()

# Exit codes of the harness itself (a command's own code is passed through).
readonly EX_TIMEOUT=124
readonly EX_HARNESS=125

usage() {
  cat <<EOF
Usage: $PROG [options] -- <command...>

Boots a cgroup-v2-only Linux VM (qemu, TCG), runs <command...> in it as root
with cwd = the project root, prints the command's output (stdout and stderr
merged) on stdout and exits with the command's exit code.

Options:
  --timeout SECONDS   wall-clock limit for boot + command (default $TIMEOUT)
  --cwd DIR           working directory inside the VM (default: project root)
  --env NAME=VALUE    set an environment variable for the command (repeatable)
  --keep-path PATH    keep host directory PATH (under /tmp, /run or /dev/shm,
                      which are fresh tmpfs mounts in the VM) visible at the
                      same path (repeatable; --cwd is kept automatically)
  --cgroup PATH       run the command in cgroup /sys/fs/cgroup/PATH instead of
                      the root cgroup (created if missing)
  --mem MB            guest memory (default $MEM)
  --swap MB           turn on MB of swap before the command (zram, as Fedora
                      and Ubuntu set it up; default none)
  --cpus N            guest vCPUs (default $CPUS)
  --log FILE          keep a copy of the serial console log in FILE
  --build-only        only build/check the cached kernel + initramfs
  -h, --help          this text

Environment: STEPBOX_VM_CACHE (default /var/cache/stepbox-vm),
STEPBOX_VM_TIMEOUT, STEPBOX_VM_MEM, STEPBOX_VM_CPUS, STEPBOX_VM_CPU (qemu -cpu model, default max),
STEPBOX_VM_MODULES (extra modules to load, default "veth bridge null_blk loop zram"),
STEPBOX_VM_KERNEL_PKG (Debian package to take the kernel from),
STEPBOX_VM_VERBOSE=1 (progress messages on stderr).

Exit status: the command's own, or $EX_TIMEOUT on timeout, or $EX_HARNESS when
the VM could not be built/booted or its output markers are missing (the
reason and the tail of the serial log are printed on stderr).
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
note() { if [[ "${STEPBOX_VM_VERBOSE:-0}" == 1 ]]; then say "$@"; fi; }
die() { say "error: $*"; exit "$EX_HARNESS"; }

# --------------------------------------------------------------------------
# argument parsing
while (($#)); do
  case "$1" in
    --timeout) TIMEOUT="${2:?--timeout needs a value}"; shift 2 ;;
    --timeout=*) TIMEOUT="${1#*=}"; shift ;;
    --cwd) CWD="${2:?--cwd needs a value}"; shift 2 ;;
    --cwd=*) CWD="${1#*=}"; shift ;;
    --env) ENV_VARS+=("${2:?--env needs NAME=VALUE}"); shift 2 ;;
    --env=*) ENV_VARS+=("${1#*=}"); shift ;;
    --keep-path) KEEP_PATHS+=("${2:?--keep-path needs a directory}"); shift 2 ;;
    --keep-path=*) KEEP_PATHS+=("${1#*=}"); shift ;;
    --cgroup) CGROUP="${2:?--cgroup needs a path}"; shift 2 ;;
    --cgroup=*) CGROUP="${1#*=}"; shift ;;
    --mem) MEM="${2:?--mem needs a value}"; shift 2 ;;
    --mem=*) MEM="${1#*=}"; shift ;;
    --swap) SWAP_MB="${2:?--swap needs a value}"; shift 2 ;;
    --swap=*) SWAP_MB="${1#*=}"; shift ;;
    --cpus) CPUS="${2:?--cpus needs a value}"; shift 2 ;;
    --cpus=*) CPUS="${1#*=}"; shift ;;
    --log) LOG_COPY="${2:?--log needs a file}"; shift 2 ;;
    --log=*) LOG_COPY="${1#*=}"; shift ;;
    --build-only) BUILD_ONLY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) say "unknown argument: $1"; usage >&2; exit 2 ;;
  esac
done
if ((BUILD_ONLY == 0)) && (($# == 0)); then
  say "no command given"; usage >&2; exit 2
fi
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive integer, got '$TIMEOUT'"
[[ "$MEM" =~ ^[1-9][0-9]*$ ]] || die "--mem must be a positive integer (MB), got '$MEM'"
[[ "$CPUS" =~ ^[1-9][0-9]*$ ]] || die "--cpus must be a positive integer, got '$CPUS'"
[[ "$SWAP_MB" =~ ^(0|[1-9][0-9]*)$ ]] || die "--swap must be a whole number of MB, got '$SWAP_MB'"
for kv in "${ENV_VARS[@]+"${ENV_VARS[@]}"}"; do
  [[ "$kv" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env wants NAME=VALUE, got '$kv'"
done
if [[ -n "$CGROUP" ]]; then
  [[ "$CGROUP" =~ ^[A-Za-z0-9_.@-]+(/[A-Za-z0-9_.@-]+)*$ && "/$CGROUP/" != */../* && "/$CGROUP/" != */./* ]] \
    || die "--cgroup wants a relative path like 'test/a', got '$CGROUP'"
fi
((EUID == 0)) || die "must run as root (qemu needs to read the whole host filesystem for the 9p share)"

# --------------------------------------------------------------------------
# temp dir + cleanup: nothing may be left behind
TMP=""
BUILD_WORK=""   # scratch dir of a cache build in progress
QEMU_PID=""
TAIL_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP PIPE
  if [[ -n "$QEMU_PID" ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
    kill -TERM "$QEMU_PID" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
  fi
  if [[ -n "$TAIL_PID" ]] && kill -0 "$TAIL_PID" 2>/dev/null; then
    kill "$TAIL_PID" 2>/dev/null || true
    wait "$TAIL_PID" 2>/dev/null || true
  fi
  if [[ -n "$TMP" && -d "$TMP" ]]; then rm -rf -- "$TMP"; fi
  if [[ -n "$BUILD_WORK" && -d "$BUILD_WORK" ]]; then rm -rf -- "$BUILD_WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# --------------------------------------------------------------------------
# host tools
have() { command -v "$1" >/dev/null 2>&1; }

APT_UPDATED=0
apt_update_once() {
  if ((APT_UPDATED == 0)); then
    say "running apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
}
apt_install() {
  say "installing $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2; then
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
      || die "apt-get install $* failed"
  fi
}

BUSYBOX=""
find_static_busybox() {
  local b
  for b in /bin/busybox /usr/bin/busybox; do
    if [[ -x "$b" ]] && ! LC_ALL=C ldd "$b" >/dev/null 2>&1; then BUSYBOX="$b"; return 0; fi
  done
  return 1
}

ensure_host_tools() {
  local missing=()
  have qemu-system-x86_64 || missing+=(qemu-system-x86)
  find_static_busybox || missing+=(busybox-static)
  have flock || missing+=(util-linux)
  have sha256sum || missing+=(coreutils)
  if ((${#missing[@]})); then
    apt_install "${missing[@]}"
    have qemu-system-x86_64 || die "qemu-system-x86_64 still missing"
    find_static_busybox || die "no static busybox at /bin/busybox even after installing busybox-static"
  fi
}

# --------------------------------------------------------------------------
# cache: kernel (from a Debian linux-image package) + initramfs
#
#   $CACHE/kernel/current             name of the kernel dir in use, e.g. 6.1.0-56-amd64
#   $CACHE/kernel/<kver>/vmlinuz      the kernel (bzImage)
#   $CACHE/kernel/<kver>/vmlinux      the same kernel uncompressed (ELF); qemu boots it
#                                     through its PVH entry point, which skips the
#                                     BIOS loader and the slow in-guest XZ decompression
#   $CACHE/kernel/<kver>/config       its build config
#   $CACHE/kernel/<kver>/package.deb  the package it came from (modules are taken from it)
#   $CACHE/initramfs-<kver>-<hash>.cpio   initramfs; <hash> covers init + module list + busybox

# The init that runs as PID 1 inside the VM (busybox sh). Kept here so that
# changing it changes the initramfs hash and forces a rebuild.
IFS= read -r -d '' VM_INIT <<'INIT_EOF' || true
#!/bin/sh
# PID 1 of the stepbox cgroup-v2 VM. Written by test/cgroup-v2/vm.sh.
export PATH=/bin
NONCE=none
say() { echo "stepbox-vm-init: $*"; }
fail() {
  printf '\nSTEPBOX-VM-INIT-ERROR %s: %s\n' "$NONCE" "$*"
  sync
  poweroff -f
  sleep 5
  exit 1
}
mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"

while read -r m; do
  [ -n "$m" ] || continue
  insmod "/modules/$m.ko" || fail "insmod $m"
done < /modules/order

mkdir -p /mnt/host /mnt/run /mnt/rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro stepboxrun /mnt/run || fail "mount 9p stepboxrun"
NONCE=$(cat /mnt/run/nonce) || fail "read nonce"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /mnt/host \
  || fail "mount 9p hostroot"
mount -t tmpfs -o mode=0755 stepbox-rw /mnt/rw || fail "mount tmpfs for overlay"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work stepbox-root /newroot \
  || fail "mount overlay"

R=/newroot
# Paths (e.g. a project checked out under /tmp) that would be hidden by the
# tmpfs mounts below are bind-mounted aside first and put back afterwards.
mkdir -p /mnt/keep
i=0
if [ -s /mnt/run/keep ]; then
  while IFS= read -r p; do
    [ -n "$p" ] || continue
    i=$((i + 1))
    mkdir -p "/mnt/keep/$i"
    mount --bind "$R$p" "/mnt/keep/$i" || fail "bind $p"
  done < /mnt/run/keep
fi

mount -t proc -o nosuid,nodev,noexec proc $R/proc || fail "mount proc"
mount -t sysfs -o nosuid,nodev,noexec sysfs $R/sys || fail "mount sysfs"
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 $R/sys/fs/cgroup \
  || fail "mount cgroup2"
mount -t devtmpfs -o nosuid devtmpfs $R/dev || fail "mount devtmpfs"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts || fail "mount devpts"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm $R/dev/shm || fail "mount /dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=0755 run $R/run || fail "mount /run"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp $R/tmp || fail "mount /tmp"

i=0
if [ -s /mnt/run/keep ]; then
  while IFS= read -r p; do
    [ -n "$p" ] || continue
    i=$((i + 1))
    mkdir -p "$R$p"
    mount --move "/mnt/keep/$i" "$R$p" || fail "restore $p"
  done < /mnt/run/keep
fi

mkdir -p $R/run/stepbox
cp /mnt/run/cmd.sh $R/run/stepbox/cmd.sh || fail "copy cmd.sh"
hostname stepbox-vm
ip link set lo up 2>/dev/null || true

# Make the overlay the root of the mount namespace (as switch_root does) rather
# than a plain chroot: the kernel refuses unshare(CLONE_NEWUSER) to a chrooted
# process. PID 1 keeps the initramfs as its own root (its cwd is the new root),
# the command is started with "chroot ." from there.
cd $R || fail "cd $R"
mount --move . / || fail "move the new root onto /"

# From here on only EMERG/ALERT kernel messages reach the console, and the
# tty passes bytes through unchanged, so the command's output stays clean.
echo 2 > /proc/sys/kernel/printk
stty -F /dev/console -opost -echo 2>/dev/null || true
set -o pipefail
printf '\nSTEPBOX-VM-BEGIN %s\n' "$NONCE"
chroot . /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C.UTF-8 \
  STEPBOX_VM=1 \
  /bin/bash /run/stepbox/cmd.sh </dev/null 2>&1 | cat
rc=$?
printf '\nSTEPBOX-VM-EXIT %s %s\n' "$rc" "$NONCE"
sync
poweroff -f
sleep 5
INIT_EOF

KVER=""
KDIR=""
INITRD=""

# Picks and downloads a Debian kernel package into $1 (a directory); prints the .deb path.
download_kernel_deb() {
  local dir="$1" want cands=() c
  if [[ -n "${STEPBOX_VM_KERNEL_PKG:-}" ]]; then
    cands=("$STEPBOX_VM_KERNEL_PKG")
  else
    want="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ && !f {print $2; f=1}' || true)"
    if [[ -z "$want" ]]; then
      apt_update_once
      want="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ && !f {print $2; f=1}' || true)"
    fi
    [[ -n "$want" ]] && cands+=("$want" "$want-unsigned")
    # fall back to whatever 6.1 images the archive lists, newest first
    while IFS= read -r c; do cands+=("$c"); done < <(
      apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64(-unsigned)?$' 2>/dev/null \
        | awk '{print $1}' | sort -Vr || true)
  fi
  for c in "${cands[@]}"; do
    note "trying to download $c"
    if (cd "$dir" && apt-get download -qq "$c" >/dev/null 2>&1); then
      local deb
      deb="$(ls -1 "$dir"/*.deb 2>/dev/null | head -n1 || true)"
      if [[ -n "$deb" ]]; then printf '%s\n' "$deb"; return 0; fi
    fi
  done
  return 1
}

ensure_kernel() {
  if [[ -s "$CACHE/kernel/current" ]]; then
    KVER="$(cat "$CACHE/kernel/current")"
    KDIR="$CACHE/kernel/$KVER"
    if [[ -s "$KDIR/vmlinuz" && -s "$KDIR/package.deb" ]]; then return 0; fi
  fi
  say "fetching a Debian kernel into $CACHE (one-time)"
  local work deb kver
  work="$(mktemp -d "$CACHE/tmp.kernel.XXXXXX")"
  BUILD_WORK="$work"
  deb="$(download_kernel_deb "$work")" || { rm -rf -- "$work"; die "could not download a linux-image-6.1 package (apt-get download)"; }
  mkdir -p "$work/x"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" --wildcards './boot/vmlinuz-*' './boot/config-*' \
    || { rm -rf -- "$work"; die "could not unpack $deb"; }
  local vml
  vml="$(ls -1 "$work"/x/boot/vmlinuz-* 2>/dev/null | head -n1 || true)"
  kver="${vml##*/vmlinuz-}"
  [[ -n "$kver" ]] || { rm -rf -- "$work"; die "no vmlinuz in $deb"; }
  mkdir -p "$work/k"
  mv "$vml" "$work/k/vmlinuz"
  mv "$work/x/boot/config-$kver" "$work/k/config" 2>/dev/null || true
  mv "$deb" "$work/k/package.deb"
  basename "$deb" > "$work/k/package.name"
  rm -rf -- "${CACHE:?}/kernel/$kver"
  mkdir -p "$CACHE/kernel"
  mv "$work/k" "$CACHE/kernel/$kver"
  printf '%s\n' "$kver" > "$CACHE/kernel/current.tmp"
  mv "$CACHE/kernel/current.tmp" "$CACHE/kernel/current"
  rm -rf -- "$work"
  KVER="$kver"
  KDIR="$CACHE/kernel/$KVER"
  say "kernel $KVER cached ($(cat "$KDIR/package.name"))"
}

# Uncompressed ELF kernel for a direct PVH boot (about 2.5 s faster per boot
# under TCG). Falls back to the bzImage when it cannot be made.
KERNEL_IMAGE=""
ensure_vmlinux() {
  KERNEL_IMAGE="$KDIR/vmlinuz"
  if [[ -s "$KDIR/vmlinux" ]]; then KERNEL_IMAGE="$KDIR/vmlinux"; return 0; fi
  [[ -f "$KDIR/no-pvh" ]] && return 0
  if [[ ! -f "$KDIR/config" ]]; then
    dpkg-deb --fsys-tarfile "$KDIR/package.deb" | tar -xO --wildcards './boot/config-*' > "$KDIR/config.tmp" 2>/dev/null || true
    if [[ -s "$KDIR/config.tmp" ]]; then mv "$KDIR/config.tmp" "$KDIR/config"; else rm -f -- "$KDIR/config.tmp"; fi
  fi
  if [[ ! -f "$KDIR/config" ]] || ! grep -qx 'CONFIG_PVH=y' "$KDIR/config"; then
    : > "$KDIR/no-pvh"; return 0
  fi
  local magic off tool out="$KDIR/vmlinux.tmp"
  # magic bytes of the payload compressors, tried in turn (NUL-free prefixes)
  for magic in xz zstd gzip; do
    case "$magic" in
      xz) off="$(LC_ALL=C grep -abo $'\xfd7zXZ' "$KDIR/vmlinuz" | head -n1 | cut -d: -f1 || true)"; tool=(xz -dc --single-stream) ;;
      zstd) off="$(LC_ALL=C grep -abo $'\x28\xb5\x2f\xfd' "$KDIR/vmlinuz" | head -n1 | cut -d: -f1 || true)"; tool=(zstd -qdc) ;;
      gzip) off="$(LC_ALL=C grep -abo $'\x1f\x8b\x08' "$KDIR/vmlinuz" | head -n1 | cut -d: -f1 || true)"; tool=(gzip -dc) ;;
    esac
    [[ -n "$off" ]] || continue
    tail -c "+$((off + 1))" "$KDIR/vmlinuz" | "${tool[@]}" > "$out" 2>/dev/null || true
    if [[ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" == 7f454c46 ]]; then
      mv "$out" "$KDIR/vmlinux"
      KERNEL_IMAGE="$KDIR/vmlinux"
      note "extracted an uncompressed kernel for PVH boot"
      return 0
    fi
  done
  rm -f -- "$out"
  : > "$KDIR/no-pvh"
}

# Module name -> file, dependency resolution from the .modinfo 'depends=' field
# (the package ships no modules.dep; depmod is not needed).
declare -A MODFILE=() MODSEEN=() MODBUILTIN=()
MODORDER=()
MODROOT=""
mod_extract() {  # $1 = .ko[.xz|.zst|.gz], $2 = destination .ko
  case "$1" in
    *.ko) cp -- "$1" "$2" ;;
    *.ko.xz) xz -dc -- "$1" > "$2" ;;
    *.ko.zst) zstd -qdc -- "$1" > "$2" ;;
    *.ko.gz) gzip -dc -- "$1" > "$2" ;;
    *) return 1 ;;
  esac
}
mod_add() {  # $1 = module name, $2 = staging modules dir
  local name="${1//-/_}" dst="$2" f deps d
  [[ -n "${MODSEEN[$name]:-}" ]] && return 0
  MODSEEN[$name]=1
  f="${MODFILE[$name]:-}"
  if [[ -z "$f" ]]; then
    [[ -n "${MODBUILTIN[$name]:-}" ]] && return 0  # built into the kernel
    die "kernel module '$1' not found in $KVER"
  fi
  mod_extract "$f" "$dst/$name.ko" || die "cannot extract module $f"
  deps="$(tr '\0' '\n' < "$dst/$name.ko" | grep -a -m1 '^depends=' || true)"
  deps="${deps#depends=}"
  for d in ${deps//,/ }; do mod_add "$d" "$dst"; done
  MODORDER+=("$name")
}

ensure_initramfs() {
  local mods="virtio_pci 9pnet_virtio 9p overlay virtio_rng ${EXTRA_MODULES}"
  local hash
  hash="$( { printf '%s\n' "$VM_INIT" "$KVER" $mods; sha256sum < "$BUSYBOX"; } | sha256sum | cut -c1-16)"
  INITRD="$CACHE/initramfs-$KVER-$hash.cpio"
  [[ -s "$INITRD" ]] && return 0

  say "building initramfs for $KVER (one-time)"
  local work st x m a
  work="$(mktemp -d "$CACHE/tmp.initramfs.XXXXXX")"
  BUILD_WORK="$work"
  st="$work/root"; x="$work/x"
  mkdir -p "$st"/{bin,dev,proc,sys,mnt,newroot,tmp,modules} "$x"
  dpkg-deb --fsys-tarfile "$KDIR/package.deb" | tar -x -C "$x" './lib/modules/' 2>/dev/null \
    || dpkg-deb --fsys-tarfile "$KDIR/package.deb" | tar -x -C "$x" --wildcards '*/lib/modules/*' \
    || { rm -rf -- "$work"; die "cannot unpack modules from $KDIR/package.deb"; }
  MODROOT="$(ls -d "$x"/lib/modules/* "$x"/usr/lib/modules/* 2>/dev/null | head -n1 || true)"
  [[ -d "$MODROOT/kernel" ]] || { rm -rf -- "$work"; die "no lib/modules/*/kernel in the kernel package"; }
  MODFILE=(); MODSEEN=(); MODORDER=(); MODBUILTIN=()
  if [[ -f "$MODROOT/modules.builtin" ]]; then
    while IFS= read -r m; do
      m="${m##*/}"; m="${m%%.ko*}"; MODBUILTIN[${m//-/_}]=1
    done < "$MODROOT/modules.builtin"
  fi
  while IFS= read -r -d '' f; do
    m="${f##*/}"; m="${m%%.ko*}"; m="${m//-/_}"
    MODFILE[$m]="$f"
  done < <(find "$MODROOT/kernel" -name '*.ko*' -print0)
  for m in $mods; do mod_add "$m" "$st/modules"; done
  printf '%s\n' "${MODORDER[@]}" > "$st/modules/order"
  note "modules: ${MODORDER[*]}"

  cp -- "$BUSYBOX" "$st/bin/busybox"
  for a in sh mount umount mkdir cat cp echo printf insmod chroot hostname ip stty sync \
           poweroff sleep ls dmesg read test [ env mknod ln rm; do
    [[ "$a" == busybox ]] || ln -sf busybox "$st/bin/$a"
  done
  printf '%s\n' "$VM_INIT" > "$st/init"
  chmod 0755 "$st/init"
  mknod -m 0600 "$st/dev/console" c 5 1
  mknod -m 0666 "$st/dev/null" c 1 3
  (cd "$st" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null) > "$work/initramfs.cpio" \
    || { rm -rf -- "$work"; die "cpio failed"; }
  # remove initramfs images of this kernel built from older inputs
  rm -f -- "$CACHE/initramfs-$KVER-"*.cpio
  mv "$work/initramfs.cpio" "$INITRD"
  rm -rf -- "$work"
  say "initramfs ready: $INITRD ($(du -h "$INITRD" | cut -f1))"
}

build_cache() {
  mkdir -p "$CACHE"
  local lockfd
  exec {lockfd}>"$CACHE/.lock"
  flock "$lockfd"
  # leftovers of an interrupted build
  rm -rf -- "$CACHE"/tmp.kernel.* "$CACHE"/tmp.initramfs.* 2>/dev/null || true
  ensure_kernel
  ensure_vmlinux
  ensure_initramfs
  flock -u "$lockfd"
  exec {lockfd}>&-
}

# --------------------------------------------------------------------------
ensure_host_tools
build_cache
if ((BUILD_ONLY)); then
  say "cache ok: kernel $KERNEL_IMAGE, initramfs $INITRD"
  exit 0
fi

CWD="$(cd "$CWD" 2>/dev/null && pwd -P)" || die "--cwd directory does not exist: $CWD"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/stepbox-vm.XXXXXX")"
mkdir "$TMP/share"
NONCE="$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$NONCE" > "$TMP/share/nonce"

# Host paths under the VM's fresh tmpfs mounts would be hidden: keep them.
: > "$TMP/share/keep"
for p in "${KEEP_PATHS[@]+"${KEEP_PATHS[@]}"}" "$CWD"; do
  p="$(cd "$p" 2>/dev/null && pwd -P)" || die "--keep-path directory does not exist: $p"
  [[ "$p" != *$'\n'* ]] || die "path with a newline: $p"
  case "$p/" in
    /tmp/*|/run/*|/dev/shm/*) grep -qxF -- "$p" "$TMP/share/keep" || printf '%s\n' "$p" >> "$TMP/share/keep" ;;
  esac
done

{
  printf '# generated by %s\n' "$PROG"
  for kv in "${ENV_VARS[@]+"${ENV_VARS[@]}"}"; do
    printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
  done
  if ((SWAP_MB > 0)); then
    printf 'echo %sM > /sys/block/zram0/disksize || exit 125\n' "$SWAP_MB"
    printf 'mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 || exit 125\n'
  fi
  if [[ -n "$CGROUP" ]]; then
    printf 'mkdir -p /sys/fs/cgroup/%q || exit 125\n' "$CGROUP"
    printf 'echo $$ > /sys/fs/cgroup/%q/cgroup.procs || exit 125\n' "$CGROUP"
  fi
  printf 'cd -- %q || exit 125\n' "$CWD"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} > "$TMP/share/cmd.sh"

LOG="$TMP/serial.log"
: > "$LOG"
# shellcheck disable=SC2054  # commas are qemu option syntax
QEMU_ARGS=(
  -accel tcg,thread=multi
  -machine pc
  -cpu "${STEPBOX_VM_CPU:-max}"
  -m "$MEM" -smp "$CPUS"
  -nodefaults -no-user-config -nographic -no-reboot
  -monitor none
  -chardev "file,id=ser0,path=$LOG"
  -serial chardev:ser0
  -kernel "$KERNEL_IMAGE"
  -initrd "$INITRD"
  -append "console=ttyS0,115200 panic=1 mitigations=off systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"
  -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
  -fsdev "local,id=stepboxrun,path=$TMP/share,security_model=none,readonly=on"
  -device virtio-9p-pci,fsdev=stepboxrun,mount_tag=stepboxrun
  -device virtio-rng-pci
  -nic none
)
note "booting: qemu-system-x86_64 ${QEMU_ARGS[*]}"
START=$SECONDS
timeout --signal=TERM --kill-after=10 "$TIMEOUT" \
  qemu-system-x86_64 "${QEMU_ARGS[@]}" </dev/null >"$TMP/qemu.out" 2>"$TMP/qemu.err" &
QEMU_PID=$!

# Follow the serial log until qemu is gone; print what lies between the markers.
mkfifo "$TMP/follow"
tail -c +1 -F -s 0.2 --pid="$QEMU_PID" "$LOG" > "$TMP/follow" 2>/dev/null &
TAIL_PID=$!
exec {FOLLOW}<"$TMP/follow"

state=boot   # boot -> run -> finished
first=1
CMD_RC=""
INIT_ERR=""
while :; do
  line=""
  if ! IFS= read -r -u "$FOLLOW" line; then
    [[ -n "$line" ]] || break          # EOF
    eof_partial=1
  else
    eof_partial=0
  fi
  bare="${line%$'\r'}"
  case "$state" in
    boot)
      # (firmware text without a newline may precede the marker)
      if [[ "$bare" == *"STEPBOX-VM-BEGIN $NONCE" ]]; then
        state=run
        note "VM booted after $((SECONDS - START)) s"
      elif [[ "$bare" == *STEPBOX-VM-INIT-ERROR* ]]; then
        INIT_ERR="STEPBOX-VM-INIT-ERROR${bare#*STEPBOX-VM-INIT-ERROR}"
      fi
      ;;
    run)
      if [[ "$bare" =~ ^STEPBOX-VM-EXIT\ ([0-9]+)\ ${NONCE}$ ]]; then
        CMD_RC="${BASH_REMATCH[1]}"
        state=finished
        break
      fi
      if ((first)); then first=0; else printf '\n'; fi
      printf '%s' "$line"
      ;;
  esac
  ((eof_partial)) && break
done
exec {FOLLOW}<&-

if [[ "$state" == finished ]]; then
  # the VM powers itself off right after the marker; give it a moment
  for _ in $(seq 1 100); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
fi
QRC=0
if kill -0 "$QEMU_PID" 2>/dev/null; then
  [[ "$state" == finished ]] && note "VM did not power off by itself; stopping qemu"
  kill -TERM "$QEMU_PID" 2>/dev/null || true
fi
wait "$QEMU_PID" || QRC=$?
QEMU_PID=""
wait "$TAIL_PID" 2>/dev/null || true
TAIL_PID=""
ELAPSED=$((SECONDS - START))
[[ -n "$LOG_COPY" ]] && cp -- "$LOG" "$LOG_COPY"

report_failure() {
  say "$1"
  if [[ -s "$TMP/qemu.err" ]]; then
    say "qemu stderr:"; sed 's/^/  | /' "$TMP/qemu.err" | tail -n 20 >&2
  fi
  say "last lines of the serial log (use --log FILE to keep all of it):"
  tr -d '\r' < "$LOG" | tail -n 40 | sed 's/^/  | /' >&2
}

if [[ "$state" == finished ]]; then
  note "command exited $CMD_RC after $ELAPSED s (boot + run)"
  exit "$CMD_RC"
fi
if [[ "$state" == run ]] && ((first == 0)); then
  printf '\n'   # the output so far did not end with our newline
fi
if ((QRC == 124 || QRC == 137 || ELAPSED >= TIMEOUT)); then
  report_failure "timed out after ${TIMEOUT} s (state: $state)"
  exit "$EX_TIMEOUT"
elif [[ -n "$INIT_ERR" ]]; then
  report_failure "VM init failed: $INIT_ERR"
elif [[ "$state" == boot ]]; then
  report_failure "VM did not reach the command (qemu exit $QRC after $ELAPSED s, no STEPBOX-VM-BEGIN marker)"
else
  report_failure "command output ended without the STEPBOX-VM-EXIT marker (qemu exit $QRC after $ELAPSED s; kernel crash or VM died)"
fi
exit "$EX_HARNESS"
