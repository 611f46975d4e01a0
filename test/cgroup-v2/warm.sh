#!/usr/bin/env bash
# Inside the VM: start `stepbox` once, then run the command given.
#
# Under qemu's software emulation (TCG) a cold first start of node now and then ended in
# SIGSEGV (about once in fifteen runs when a TypeScript loader compiled every file; never
# once in sixty warm starts). The server now runs the JavaScript built on the host, but the
# first start in the VM still pages in node and every module from 9p: it is made here, by
# `stepbox --help` (which loads every module and touches nothing), and a crashed one is said
# and retried, at most three times. What runs after it runs once.
set -u
for attempt in 1 2 3; do
  if node lab-server/bin/stepbox.mjs --help >/dev/null; then break; fi
  echo "warm.sh: warm-up start $attempt ended with status $?" >&2
done
exec "$@"
