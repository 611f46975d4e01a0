#!/usr/bin/env bash
# Runs inside one VM shape (see vm.test.ts): says what the machine is, as the kernel reports
# it, then plays the given lessons as a student would. Exits non-zero if any play fails.
#
# STEPBOX_UNIT=system.slice/stepbox.service plays each lesson as a systemd unit with
# Delegate=yes would run the lab: every controller handed down to the unit's group, and the
# lab started as the only process in it. Its group is then not a leaf, and the lab must move
# itself into one before it can hand controllers down to its sessions.
set -u
unit=${STEPBOX_UNIT:-}
if [[ -n $unit ]]; then
  dir=/sys/fs/cgroup
  for part in ${unit//\// }; do
    for c in $(cat "$dir/cgroup.controllers"); do echo "+$c" > "$dir/cgroup.subtree_control" || exit 125; done
    dir=$dir/$part
    mkdir -p "$dir" || exit 125
  done
fi
swap_kib=$(awk 'NR > 1 { s += $3 } END { print s + 0 }' /proc/swaps)
echo "shape: $(nproc) CPUs, swap ${swap_kib} KiB, lab in /${unit}"
rc=0
for lesson in "$@"; do
  if [[ -n $unit ]]; then
    sh -c 'echo $$ > "$0/cgroup.procs" && exec node lab-server/bin/stepbox.mjs play "$1"' "/sys/fs/cgroup/$unit" "$lesson"
  else
    node lab-server/bin/stepbox.mjs play "$lesson"
  fi
  status=$?
  echo "play $lesson: exit $status"
  [[ $status -eq 0 ]] || rc=1
done
if [[ -n $unit ]]; then
  # What the lab enabled in the unit's group to hand controllers down, it took back.
  echo "the unit's cgroup.subtree_control after the lab: [$(cat "/sys/fs/cgroup/$unit/cgroup.subtree_control")]"
  # A process that is not the lab's in the unit's group: the lab must refuse, naming it,
  # and move nothing of it.
  sh -c 'echo $$ > "$0/cgroup.procs" && exec sleep 1000' "/sys/fs/cgroup/$unit" &
  stranger=$!
  sleep 1
  out=$(sh -c 'echo $$ > "$0/cgroup.procs" && exec node lab-server/bin/stepbox.mjs play "$1"' "/sys/fs/cgroup/$unit" cg-pids 2>&1)
  if [[ $out == *"$stranger (sleep)"*"not the lab's to move"* ]] && grep -qx "$stranger" "/sys/fs/cgroup/$unit/cgroup.procs"; then
    echo "a stranger in the unit's group: refused, and left where it was"
  else
    echo "a stranger in the unit's group: NOT refused as it should be:"; echo "$out"; rc=1
  fi
  kill "$stranger"
fi
node lab-server/bin/stepbox.mjs cleanup
exit $rc
