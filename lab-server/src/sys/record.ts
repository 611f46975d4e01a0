// Runs one host-side action (a file write, a mkdir, an FFI call) and records it as a Call:
// the same shape the C helper reports, so the page shows every step the same way.
import { spawnSync } from 'node:child_process';
import type { Call } from '../protocol/results.ts';
import { SysError } from './ffi.ts';
import { ERRNO_MESSAGES } from '../protocol/errno.ts';

/** strerror()'s English words for each errno we name. */
const MESSAGES: Record<string, string> = Object.fromEntries(Object.entries(ERRNO_MESSAGES).map(([errno, said]) => [errno, said.en]));

export function errnoOf(e: unknown): string {
  if (e instanceof SysError) return e.errno;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'EIO';
}

export function record(call: string, shell: string | undefined, fn: () => void): Call {
  const t0 = process.hrtime.bigint();
  try {
    fn();
    return { call, shell, ret: 0, errno: '', msg: '', ns: Number(process.hrtime.bigint() - t0) };
  } catch (e) {
    const errno = errnoOf(e);
    return { call, shell, ret: -1, errno, msg: MESSAGES[errno] ?? errno, ns: Number(process.hrtime.bigint() - t0) };
  }
}

/** The errno a command names in its message: glibc's strerror text, or iproute2's own words. */
function errnoInMessage(text: string): string | null {
  if (/Cannot find device/.test(text)) return 'ENODEV';
  for (const [errno, msg] of Object.entries(MESSAGES)) if (text.endsWith(msg)) return errno;
  return null;
}

/**
 * Runs one command on the host (iproute2's ip, nsenter) and records it as a Call. A command
 * says how it failed only in words; the errno is read back from those words when they are
 * strerror's, else the Call says which exit status it was.
 */
export function recordCommand(argv: [string, ...string[]]): Call {
  const line = argv.join(' ');
  const t0 = process.hrtime.bigint();
  // LANG=C: the errno is recognised by strerror's English text.
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' }, timeout: 10_000 });
  const ns = Number(process.hrtime.bigint() - t0);
  if (r.status === 0) return { call: line, shell: line, ret: 0, errno: '', msg: '', ns };
  if (r.error) {
    const errno = errnoOf(r.error);
    return { call: line, shell: line, ret: -1, errno, msg: `${argv[0]}: ${MESSAGES[errno] ?? r.error.message}`, ns };
  }
  const said = r.stderr.trim().split('\n')[0] || `exit status ${r.status}`;
  return { call: line, shell: line, ret: -1, errno: errnoInMessage(said) ?? `exit ${r.status ?? r.signal}`, msg: said, ns };
}
