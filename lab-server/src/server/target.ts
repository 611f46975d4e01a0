// The request target of an HTTP request, read without trusting it. Node hands over
// req.url exactly as the client wrote it: `//`, `//a:b@`, `/%zz` and `/%c0%ae` all arrive,
// and the usual `new URL(req.url, base)` and `decodeURIComponent` throw on them. Here
// nothing throws: a target that is not a plain origin-form path answers null (400).

export interface Target {
  /** The decoded path, always starting with a single "/". */
  path: string;
  query: URLSearchParams;
}

/** Longer than any address the lab serves; a longer one is a probe, not a page. */
const MAX_TARGET = 2048;

export function parseTarget(raw: string | undefined): Target | null {
  if (!raw || raw.length > MAX_TARGET) return null;
  // Origin form only (RFC 9112 §3.2.1): "/path?query". Absolute form (http://…), the
  // authority form of CONNECT and the asterisk of OPTIONS are not for this server, and a
  // path starting "//" would be read as an authority by URL parsers.
  if (raw[0] !== '/' || raw[1] === '/' || raw[1] === '\\') return null;
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return null; // bad or overlong UTF-8 in a percent sequence, or a lone "%"
  }
  // A NUL ends a C string: a path holding one means something different to the kernel.
  if (path.includes('\0') || path.includes('\\')) return null;
  return { path, query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}
