// Before the suite: build what the tests need and start from a clean machine.
// After it: fail the run if anything of the lab is left on the machine.
import { execFileSync } from 'node:child_process';
import { leftovers } from './leftovers.ts';

export function setup(): void {
  if (process.getuid?.() !== 0) throw new Error('the stepbox suite runs as root, on the real kernel (sudo npm test)');
  execFileSync('make', ['-s', '-C', 'lab-server/native'], { stdio: 'inherit' });
  execFileSync('sh', ['rootfs-images/build.sh', 'busybox'], { stdio: 'inherit' });
  // Only leftovers of servers that are gone: a lab someone is using on this machine stays.
  cleanup();
}

/**
 * Under qemu's software emulation (the cgroup-v2 VM) node now and then dies by SIGSEGV
 * (see test/cgroup-v2/v2.test.ts): a cleanup ended by a signal is said and run once more.
 */
function cleanup(): void {
  try {
    execFileSync('node', ['lab-server/bin/stepbox.mjs', 'cleanup'], { stdio: 'inherit' });
  } catch (e) {
    const signal = (e as { signal?: string | null }).signal;
    if (!signal) throw e;
    console.error(`stepbox cleanup ended by ${signal}; running it once more`);
    execFileSync('node', ['lab-server/bin/stepbox.mjs', 'cleanup'], { stdio: 'inherit' });
  }
}

export function teardown(): void {
  const left = leftovers();
  if (left.length) throw new Error(`the suite left these behind:\n${left.join('\n')}`);
}
