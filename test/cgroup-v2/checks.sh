#!/usr/bin/env bash
# test/cgroup-v2/checks.sh - probes what the cgroup-v2 VM offers.
# Meant to run INSIDE the VM:   test/cgroup-v2/vm.sh -- bash test/cgroup-v2/checks.sh
# Prints one "ok"/"not ok" line per check, then "N passed, N failed";
# exits 1 if any check failed.

set -uo pipefail

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok - %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'not ok - %s: %s\n' "$1" "$2"; }
# check NAME CMD... : the command must succeed; its output is shown on failure
check() {
  local name="$1" out
  shift
  if out="$("$@" 2>&1)"; then ok "$name"; else bad "$name" "$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-300)"; fi
}
ms() { date +%s%3N; }

if [[ "${STEPBOX_VM:-}" != 1 ]]; then
  echo "warning: STEPBOX_VM is not 1 - this is meant to run inside test/cgroup-v2/vm.sh" >&2
fi

CG=/sys/fs/cgroup
echo "# kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print int($2/1024) " MiB"}' /proc/meminfo)"

# --- identity and cgroup layout -------------------------------------------
check "running as root (uid 0)" test "$(id -u)" = 0
check "cgroup2 mounted at $CG" bash -c "grep -qE '^cgroup2 $CG cgroup2 ' /proc/mounts"
check "no cgroup v1 mounts" bash -c "! grep -qE ' cgroup ' /proc/mounts"
check "/proc/self/cgroup is a single 0::/ line" \
  bash -c '[[ "$(wc -l < /proc/self/cgroup)" == 1 ]] && grep -qE "^0::/" /proc/self/cgroup'
echo "# /proc/self/cgroup: $(tr '\n' ' ' < /proc/self/cgroup)"
echo "# cgroup.controllers: $(cat $CG/cgroup.controllers)"
for c in cpuset cpu io memory hugetlb pids; do
  check "controller $c available" grep -qw "$c" $CG/cgroup.controllers
done

# --- enabling controllers and a child cgroup -------------------------------
check "enable +cpu +memory +pids +io +cpuset in root subtree_control" \
  bash -c "echo '+cpu +memory +pids +io +cpuset' > $CG/cgroup.subtree_control"
echo "# root cgroup.subtree_control: $(cat $CG/cgroup.subtree_control)"
T=$CG/stepbox-check.$$
check "mkdir a child cgroup" mkdir "$T"
check "child sees the enabled controllers" \
  bash -c "for c in cpu memory pids io cpuset; do grep -qw \$c $T/cgroup.controllers || exit 1; done"
check "write memory.max" bash -c "echo 64M > $T/memory.max && grep -qx 67108864 $T/memory.max"
check "write memory.swap.max" bash -c "echo 0 > $T/memory.swap.max"
check "write pids.max" bash -c "echo 16 > $T/pids.max && grep -qx 16 $T/pids.max"
check "write cpu.max" bash -c "echo '50000 100000' > $T/cpu.max && grep -qx '50000 100000' $T/cpu.max"
check "write cpu.weight" bash -c "echo 50 > $T/cpu.weight"
check "write cpuset.cpus" bash -c "echo 0 > $T/cpuset.cpus && grep -qx 0 $T/cpuset.cpus.effective"
if [[ -b /dev/nullb0 ]]; then
  dev="$(cat /sys/block/nullb0/dev)"
  check "write io.max for /dev/nullb0 ($dev)" \
    bash -c "echo '$dev wbps=1048576' > $T/io.max && grep -q '^$dev .*wbps=1048576' $T/io.max"
else
  bad "io.max" "no /dev/nullb0 block device to throttle"
fi
check "move a process into the child cgroup" \
  bash -c "echo \$\$ > $T/cgroup.procs && grep -qx '0::/stepbox-check.$$' /proc/self/cgroup"
# busybox sh does not retry a failed fork the way bash does
check "pids.max is enforced" \
  bash -c "! /bin/busybox sh -c 'echo \$\$ > $T/cgroup.procs; echo 1 > $T/pids.max; /bin/true || exit 1; exit 0' 2>/dev/null; grep -q '^max [1-9]' $T/pids.events"
echo max > $T/pids.max
check "memory.max is enforced (OOM kill in the cgroup)" \
  bash -c "echo 32M > $T/memory.max; echo \$\$ > $T/cgroup.procs; ! dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; grep -qE '^oom_kill [1-9]' $T/memory.events"
check "cgroup.freeze exists" test -f $T/cgroup.freeze
check "cgroup.kill kills the cgroup" \
  bash -c "mkdir $T/k && (echo \$BASHPID > $T/k/cgroup.procs; exec sleep 60) & sleep 0.5; echo 1 > $T/k/cgroup.kill; wait; sleep 0.2; [[ -z \$(cat $T/k/cgroup.procs) ]] && rmdir $T/k"
check "rmdir the child cgroup" rmdir "$T"
check "nested cgroups with delegation (subtree_control in a child)" \
  bash -c "mkdir -p $CG/stepbox-n.$$/a && echo '+memory +pids' > $CG/stepbox-n.$$/cgroup.subtree_control && test -f $CG/stepbox-n.$$/a/memory.max && rmdir $CG/stepbox-n.$$/a $CG/stepbox-n.$$"

# --- namespaces -------------------------------------------------------------
check "unshare --user --map-root-user --pid --fork --mount-proc true" \
  unshare --user --map-root-user --pid --fork --mount-proc true
check "unshare all namespace types as root" \
  unshare --mount --uts --ipc --net --pid --cgroup --time --fork --mount-proc \
    bash -c 'hostname inner && [[ $(hostname) == inner ]] && [[ $$ == 1 ]] && grep -qx "0::/" /proc/self/cgroup && ip link show lo >/dev/null'
check "unshare all namespace types incl. user ns" \
  unshare --user --map-root-user --mount --uts --ipc --net --pid --cgroup --time --fork --mount-proc \
    bash -c '[[ $(id -u) == 0 && $$ == 1 ]]'
check "unprivileged user (nobody) can create a user+pid namespace" \
  setpriv --reuid=65534 --regid=65534 --clear-groups unshare --user --map-root-user --pid --fork --mount-proc true
check "cgroup namespace inside a child cgroup shows 0::/" \
  bash -c "mkdir $CG/stepbox-ns.$$ && echo \$\$ > $CG/stepbox-ns.$$/cgroup.procs && unshare --cgroup cat /proc/self/cgroup | grep -qx '0::/'; rc=\$?; echo \$\$ > $CG/cgroup.procs; rmdir $CG/stepbox-ns.$$; exit \$rc"
check "veth pair in a new net namespace" \
  unshare --net bash -c 'ip link add v0 type veth peer name v1 && ip addr add 10.200.0.1/30 dev v0 && ip link set v0 up && ip link set v1 up'
check "bridge device" unshare --net ip link add br0 type bridge
check "pivot_root into a tmpfs rootfs (mount ns)" \
  unshare --mount --fork bash -c '
    set -e; mount --make-rprivate /
    d=$(mktemp -d); mount -t tmpfs t "$d"; mkdir "$d/bin" "$d/old"; cp /bin/busybox "$d/bin/"
    cd "$d"; pivot_root . old
    exec /bin/busybox sh -c "/bin/busybox umount -l /old && /bin/busybox test ! -e /old/usr/bin"'
check "overlayfs inside the VM (lower from the shared root, upper on tmpfs)" \
  bash -c 'd=$(mktemp -d) && mkdir $d/u $d/w $d/m && mount -t overlay -o lowerdir=/usr/share/doc,upperdir=$d/u,workdir=$d/w ov $d/m && touch $d/m/x && umount $d/m && rm -rf $d'
check "mknod / mount tmpfs / chroot work" \
  bash -c 'd=$(mktemp -d) && mount -t tmpfs t $d && mknod $d/null c 1 3 && mkdir $d/bin && cp /bin/busybox $d/bin/ && chroot $d /bin/busybox true && umount $d'

# --- filesystem ---------------------------------------------------------------
check "project dir is writable (overlay, discarded at power-off)" \
  bash -c "f=\$PWD/.stepbox-vm-write-test && echo x > \$f && rm \$f"
check "/tmp is a tmpfs" bash -c "grep -qE '^tmp /tmp tmpfs ' /proc/mounts"
check "/dev/ptmx opens a pty" bash -c 'exec 3<>/dev/ptmx'

# --- node -----------------------------------------------------------------------
t0=$(ms); v="$(node -e 'console.log(process.version)' 2>&1)"; t1=$(ms)
if [[ "$v" == v* ]]; then ok "node runs: $v (first start $((t1 - t0)) ms)"; else bad "node runs" "$v"; fi
t0=$(ms); node -e 0; t1=$(ms)
echo "# node -e 0 (warm): $((t1 - t0)) ms"
if [[ -d node_modules/vitest ]]; then
  t0=$(ms); out="$(node node_modules/vitest/vitest.mjs --version 2>&1)"; rc=$?; t1=$(ms)
  if ((rc == 0)); then ok "vitest --version: $out ($((t1 - t0)) ms)"; else bad "vitest --version" "$out"; fi
fi

echo "$pass passed, $fail failed"
((fail == 0))
