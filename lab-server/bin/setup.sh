#!/bin/sh
# What `npm start` and `npm test` run first, so that on a fresh Debian or Ubuntu machine
# those two commands are all a person types. It
#   1. becomes root (the lab makes namespaces, cgroups and mounts), through sudo if needed;
#   2. installs the Debian packages that are missing: to build and run the lab, and for
#      `test`, what the tests drive (Chromium, QEMU for the cgroup-v2 machine, runc, crun,
#      and on x86-64 an arm64 cross compiler with qemu-user, to build and run the helper
#      as an arm64 machine would);
#   3. installs the npm packages when node_modules is missing or older than the lock file
#      (which also builds the C helper and the busybox image, offline);
#   4. runs the command: `start` serves the lab, `workshop` serves a room
#      (docs/workshop.md), `test` type-checks and runs the suite.
# Each step is skipped when its work is already done: on a machine that has everything,
# this costs a few dpkg look-ups.
#
#   sh lab-server/bin/setup.sh start|workshop|test [arguments for stepbox serve or workshop]
set -eu
what=${1:?usage: setup.sh start|workshop|test}
shift
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/../.."

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    echo "stepbox runs as root (it makes namespaces, cgroups and mounts): asking sudo." >&2
    # Keep PATH: node and npm may live where root's PATH does not look (nvm, a tarball).
    exec sudo -- env "PATH=$PATH" sh "$self" "$what" "$@"
  fi
  echo "stepbox runs as root (it makes namespaces, cgroups and mounts), and this machine has no sudo:" >&2
  echo "  run it in a root shell, e.g.  su -c 'cd $(pwd) && npm $what'" >&2
  exit 1
fi

packages="build-essential python3 busybox-static iproute2 util-linux openssl"
if [ "$what" = test ]; then
  packages="$packages chromium fonts-wqy-microhei qemu-system-x86 runc crun systemd"
  if [ "$(uname -m)" = x86_64 ]; then
    packages="$packages gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
  fi
fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "stepbox: installing what this machine lacks:$missing" >&2
  # A fresh machine may never have fetched the package lists: apt-get install would find nothing.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

case "$what" in
  start) exec npm run -s serve -- "$@" ;;
  # The page is built first; its output goes to stderr, so that --print-systemd-unit prints the unit alone.
  workshop) npm run -s build:web -- --logLevel warn >&2 && exec node lab-server/bin/stepbox.mjs workshop "$@" ;;
  test) exec npm run -s check ;;
  *) echo "setup.sh: start, workshop or test, not $what" >&2; exit 2 ;;
esac
