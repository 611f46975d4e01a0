#!/usr/bin/env bash
# test/cgroup-v2/selftest.sh - checks vm.sh's own contract from the host:
# exact output, exit codes, quoting, env, cwd, --cgroup, failure reporting
# (timeout, kernel crash, unbootable initramfs), and that nothing is left behind.
# Boots about a dozen VMs: takes about 1.5 minutes on 2 cores.
# Usage: test/cgroup-v2/selftest.sh          (as root)

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
ROOT="$(cd "$HERE/../.." && pwd -P)"
VM="$HERE/vm.sh"
CACHE="${STEPBOX_VM_CACHE:-/var/cache/stepbox-vm}"
export STEPBOX_VM_CACHE="$CACHE"

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok - %s\n' "$1"; }
bad() { fail=$((fail + 1)); printf 'not ok - %s\n' "$1"; shift; printf '    %s\n' "$@"; }

WORK="$(mktemp -d /tmp/stepbox-vm-selftest.XXXXXX)"
trap 'rm -rf -- "$WORK"' EXIT

# run NAME EXPECTED_RC EXPECTED_STDOUT VM_SH_ARGS...  (e.g. --env A=b -- cmd)   (stdout compared byte for byte)
run() {
  local name="$1" want_rc="$2" want_out="$3" rc
  shift 3
  "$VM" "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  local got
  got="$(cat "$WORK/out"; echo .)"; got="${got%.}"
  if [[ "$rc" == "$want_rc" && "$got" == "$want_out" ]]; then
    ok "$name"
  else
    bad "$name" "want rc=$want_rc stdout=$(printf '%q' "$want_out" | cut -c1-300)" \
      "got  rc=$rc stdout=$(printf '%q' "$got" | cut -c1-300)" "stderr: $(tail -n 5 "$WORK/err" | tr '\n' ' ')"
  fi
}
# stderr of the last run must match an extended regex
stderr_has() {
  if grep -qE -- "$2" "$WORK/err"; then ok "$1"; else bad "$1" "stderr: $(tail -n 8 "$WORK/err" | tr '\n' ' ')"; fi
}
nothing_left() {
  local q t
  q="$(pgrep -f -- "mount_tag=stepboxrun" || true)"
  t="$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'stepbox-vm.*' 2>/dev/null)"
  if [[ -z "$q" && -z "$t" ]]; then ok "$1: no qemu, no temp dir left"; else bad "$1: left behind" "qemu pids: $q" "temp: $t"; fi
}

"$VM" --build-only 2>/dev/null || { echo "vm.sh --build-only failed"; exit 1; }

run "output without trailing newline" 0 'x' -- printf x
run "empty output" 0 '' -- true
run "exit code passes through" 7 $'before\n' -- sh -c 'echo before; exit 7'
run "arguments with spaces, quotes, \$ and globs" 0 "a b|\"|'|\$HOME||*|"$'\n' -- \
  sh -c 'for a in "$@"; do printf "%s|" "$a"; done; echo' sh 'a b' '"' "'" '$HOME' '' '*'
run "stderr is merged into stdout" 0 $'out\nerr\n' -- sh -c 'echo out; sleep 0.1; echo err >&2'
run "blank lines and carriage returns kept" 0 $'\n\na\r\n\n' -- printf '\n\na\r\n\n'
run "cwd is the project root" 0 "$ROOT"$'\n' -- pwd
run "--env NAME=VALUE" 0 $'a b "c" \'d\'\n' --env "FOO=a b \"c\" 'd'" -- printenv FOO
run "STEPBOX_VM=1 is set" 0 $'1\n' -- printenv STEPBOX_VM
run "--cgroup puts the command in a child cgroup" 0 $'0::/stepbox/t1\n' --cgroup stepbox/t1 -- cat /proc/self/cgroup
mkdir -p "$WORK/proj dir" && echo hello > "$WORK/proj dir/f"
run "--cwd under /tmp stays visible" 0 $'hello\n' --cwd "$WORK/proj dir" -- cat f
seq 1 20000 > "$WORK/seq"
run "20000 lines come through intact" 0 "$(cat "$WORK/seq")"$'\n' -- seq 1 20000
nothing_left "after the normal runs"

run "timeout is reported" 124 '' --timeout 15 -- sleep 300
stderr_has "timeout message" 'timed out after 15 s'
nothing_left "after the timeout"

# the panic itself (EMERG level) is printed inline after the output so far
"$VM" -- sh -c 'echo before crash; sleep 0.2; echo c > /proc/sysrq-trigger' >"$WORK/out" 2>"$WORK/err"
rc=$?
if [[ $rc == 125 && "$(head -n1 "$WORK/out")" == "before crash" ]] && grep -q 'Kernel panic' "$WORK/out"; then
  ok "kernel crash mid-command is reported (rc 125, panic shown inline)"
else
  bad "kernel crash mid-command is reported" "rc=$rc stdout: $(head -c 300 "$WORK/out" | tr '\n' ' ')"
fi
stderr_has "crash message" 'without the STEPBOX-VM-EXIT marker'
nothing_left "after the crash"

# an unbootable initramfs (copy of the cache with a garbage image)
BAD="$WORK/badcache"
mkdir -p "$BAD/kernel"
cp "$CACHE/kernel/current" "$BAD/kernel/"
ln -s "$CACHE/kernel/$(cat "$CACHE/kernel/current")" "$BAD/kernel/"
for f in "$CACHE"/initramfs-*.cpio; do head -c 4096 /dev/urandom > "$BAD/${f##*/}"; done
STEPBOX_VM_CACHE="$BAD" run "unbootable VM is reported" 125 '' --timeout 120 -- true
stderr_has "boot failure message" 'did not reach the command'
nothing_left "after the failed boot"

# SIGTERM to vm.sh while the command runs
"$VM" -- sleep 300 >"$WORK/out" 2>"$WORK/err" &
pid=$!
for _ in $(seq 1 300); do pgrep -f -- "mount_tag=stepboxrun" >/dev/null && break; sleep 0.1; done
sleep 3
kill -TERM "$pid"
wait "$pid"
rc=$?
if [[ "$rc" == 143 ]]; then ok "SIGTERM ends vm.sh with 143"; else bad "SIGTERM ends vm.sh with 143" "rc=$rc"; fi
nothing_left "after SIGTERM"

echo "$pass passed, $fail failed"
((fail == 0))
