// A small JSON request body, read with a bound on its size: the instructor's dashboard
// posts a few hundred bytes at most, and nothing else may post at all.
import type { IncomingMessage } from 'node:http';

export const MAX_BODY_BYTES = 4096;

export const TOO_LARGE = Symbol('too large');

/**
 * The body parsed as JSON; TOO_LARGE past `max` bytes (the rest is not read); null if it is
 * not JSON or the client gave up.
 */
export function readJson(req: IncomingMessage, max = MAX_BODY_BYTES): Promise<unknown> {
  return new Promise((ok) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        ok(TOO_LARGE);
        req.removeAllListeners('data');
        req.pause();
      } else chunks.push(c);
    });
    req.on('error', () => ok(null));
    req.on('aborted', () => ok(null));
    req.on('end', () => {
      try {
        ok(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        ok(null);
      }
    });
  });
}
