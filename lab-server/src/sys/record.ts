// Runs one host-side action (a file write, a mkdir, an FFI call) and records it as a Call:
// the same shape the C helper reports, so the page shows every step the same way.
import type { Call } from '../protocol/results.ts';
import { SysError } from './ffi.ts';

const MESSAGES: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EINVAL: 'Invalid argument',
  EBUSY: 'Device or resource busy',
  EACCES: 'Permission denied',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  ESRCH: 'No such process',
  ENODEV: 'No such device',
  ERANGE: 'Numerical result out of range',
  EOPNOTSUPP: 'Operation not supported',
  ENOTSUP: 'Operation not supported',
};

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
