#!/usr/bin/env bash
# Inside the VM: fill tsx's compile cache, then run the command given.
#
# The VM's /tmp starts empty, so the first `stepbox` compiles every TypeScript file of the
# lab. Under qemu's software emulation (TCG) such a cold start ended in SIGSEGV about once
# in fifteen runs, and never once in sixty warm ones; 3,000 plain spawns and 3,000 esbuild
# transforms in the same VM did not crash. So the cache is filled first, by `stepbox --help`
# (which loads every module and touches nothing), and a crashed warm-up is said and retried,
# at most three times. What runs after it runs once.
set -u
for attempt in 1 2 3; do
  if node lab-server/bin/stepbox.mjs --help >/dev/null; then break; fi
  echo "warm.sh: warm-up $attempt of tsx's cache ended with status $?" >&2
done
exec "$@"
