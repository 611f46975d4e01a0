// Serves the built page from web/dist. Only files under that folder, by normalised path.
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../../web/dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

const SUFFIX = { br: '.br', gzip: '.gz' } as const;

/**
 * The encoding to send, from what the browser accepts: brotli, then gzip (the build makes
 * both beside each asset, web/precompress.ts), else none. A coding given q=0 is refused.
 */
export function pickEncoding(accept: string | undefined): 'br' | 'gzip' | null {
  const ok = new Set<string>();
  for (const part of (accept ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';').map((x) => x.trim());
    const q = params.find((p) => p.startsWith('q='));
    if (name && !(q && Number(q.slice(2)) === 0)) ok.add(name);
  }
  if (ok.has('br')) return 'br';
  if (ok.has('gzip') || ok.has('*')) return 'gzip';
  return null;
}

/** Serve a file of the built page; `path` is already decoded (server/target.ts). */
export function serveStatic(path: string, res: ServerResponse, acceptEncoding?: string): void {
  const rel = normalize(path).replace(/^\/+/, '');
  let file = join(WEB_DIST, rel);
  if (!file.startsWith(WEB_DIST + sep) && file !== WEB_DIST) return void res.writeHead(404).end();
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(WEB_DIST, 'index.html');
  if (!existsSync(file)) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('The page is not built: run npm run build:web (npm start does it).\n');
    return;
  }
  const hashed = rel.startsWith('assets/');
  const encoding = pickEncoding(acceptEncoding);
  const packed = encoding && existsSync(file + SUFFIX[encoding]) ? file + SUFFIX[encoding] : null;
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
    vary: 'accept-encoding',
    ...(packed ? { 'content-encoding': encoding! } : {}),
  });
  // The file can vanish between the check and the read (a rebuild of the page): end the
  // answer rather than let the stream's error go unheard.
  createReadStream(packed ?? file)
    .on('error', () => res.destroy())
    .pipe(res);
}
