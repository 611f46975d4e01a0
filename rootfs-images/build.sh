#!/bin/sh
# Builds a root filesystem image for the lab, offline, into rootfs-images/build/<name>.
#   busybox  the default: Debian's static busybox with its applet links (about 2 MB);
#            without busybox-static, a small image of host binaries and their libraries.
#   debian   a minimal Debian with bash, by debootstrap (needs the package mirror).
# Every image also gets the lab's own programs, tools/*.c compiled static into /bin (e.g.
# /bin/breakout, which a lesson runs to escape a chroot).
# Idempotent: an image that is already built is left alone (remove it to rebuild), except
# that a tool whose source is newer than its binary is compiled again, in place.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
name=${1:-busybox}
out="$here/build/$name"

# Static, so a tool runs in any image whatever its libc. Each binary is renamed into place,
# so a session that has the image as its lower layer never sees half a file.
compile_tools() {
  command -v cc >/dev/null || { echo "build.sh: the image's tools need a C compiler (apt-get install build-essential)" >&2; exit 1; }
  mkdir -p "$1/bin"
  for src in "$here"/tools/*.c; do
    prog=$(basename "$src" .c)
    cc -static -Os -Wall -Wextra -o "$1/bin/.$prog.tmp.$$" "$src"
    mv -f "$1/bin/.$prog.tmp.$$" "$1/bin/$prog"
  done
}

tools_stale() {
  for src in "$here"/tools/*.c; do
    bin="$1/bin/$(basename "$src" .c)"
    if [ ! -e "$bin" ] || [ "$src" -nt "$bin" ]; then return 0; fi
  done
  return 1
}

if [ -f "$out/.stepbox-image" ]; then
  if tools_stale "$out"; then
    compile_tools "$out"
    # Newer than its user-namespace copies (build/<name>@<base>): they are made again.
    touch "$out/.stepbox-image"
  fi
  exit 0
fi

tmp="$here/build/.$name.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp"

skeleton() {
  cd "$1"
  mkdir -p bin sbin usr/bin usr/sbin etc root home proc sys dev tmp run var/tmp
  chmod 0700 root
  chmod 1777 tmp var/tmp
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > etc/passwd
  printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > etc/group
  printf '127.0.0.1 localhost\n::1 localhost\n' > etc/hosts
  echo stepbox > etc/hostname
  printf 'Welcome to a container built one syscall at a time.\n' > etc/motd
  cd - >/dev/null
}

# Copy a host binary and every shared library it needs, keeping their paths.
copy_with_libs() {
  bin=$(command -v "$1" 2>/dev/null) || return 0
  mkdir -p "$tmp$(dirname "$bin")"
  cp -L "$bin" "$tmp$bin"
  for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
    [ -e "$tmp$lib" ] && continue
    mkdir -p "$tmp$(dirname "$lib")"
    cp -L "$lib" "$tmp$lib"
  done
}

is_static() { ldd "$1" 2>&1 | grep -q 'not a dynamic executable'; }

case "$name" in
busybox)
  skeleton "$tmp"
  bb=$(command -v busybox || true)
  if [ -n "$bb" ] && is_static "$bb"; then
    cp "$bb" "$tmp/bin/busybox"
    # Applet links, relative so they resolve inside the container's root.
    for path in $("$bb" --list-full); do
      [ "$path" = bin/busybox ] && continue
      up=$(echo "$path" | sed 's|[^/]*/|../|g; s|[^/]*$||')
      ln -sf "${up}bin/busybox" "$tmp/$path"
    done
    # busybox's shell runs its own applets before anything on PATH, and its readlink takes
    # one file; students type coreutils' `readlink /proc/self/ns/*`. The interactive shell
    # reads $ENV (the helper sets ENV=/etc/shrc), so a function there can take many.
    cat > "$tmp/etc/shrc" <<'SH'
# Read by interactive shells (ENV=/etc/shrc).
case $PS1 in peek*) ;; *) PS1='\u@\h:\w\$ ' ;; esac
readlink() {
  opts=
  while [ $# -gt 0 ]; do case $1 in -?*) opts="$opts $1"; shift ;; *) break ;; esac; done
  [ $# -gt 0 ] || { busybox readlink $opts; return; }
  rc=0
  for f; do busybox readlink $opts "$f" || rc=1; done
  return $rc
}
SH
    echo "busybox $("$bb" | head -n 1)" > "$tmp/.stepbox-image"
  else
    echo "build.sh: no static busybox (apt-get install busybox-static); copying host binaries instead" >&2
    for b in sh bash ls cat echo hostname id ps mount umount readlink mkdir rm cp mv ln touch grep sed head tail sleep env uname stat free top kill df du wc tr cut sort uniq printf find chmod chown true false which dd; do
      copy_with_libs "$b"
    done
    [ -e "$tmp/bin/sh" ] || ln -s bash "$tmp/bin/sh"
    echo "host binaries $(uname -r)" > "$tmp/.stepbox-image"
  fi
  ;;
debian)
  command -v debootstrap >/dev/null || { echo "build.sh: debian needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
  debootstrap --variant=minbase bookworm "$tmp" >&2
  echo "debian bookworm minbase" > "$tmp/.stepbox-image"
  ;;
*)
  echo "build.sh: unknown image '$name' (busybox, debian)" >&2
  exit 2
  ;;
esac

compile_tools "$tmp"

rm -rf "$out"
mv "$tmp" "$out"
