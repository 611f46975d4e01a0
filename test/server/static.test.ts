// The built page goes out as the build packed it: brotli or gzip when the browser takes
// them, the same bytes once unpacked, and within the first-load budget (docs/performance.md).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPage } from '../e2e/harness.ts';
import { ROOT } from '../support/served.ts';
import { useServer } from '../support/server.ts';

const server = useServer(5);
beforeAll(() => buildPage(), 120_000);

const get = (path: string, encoding?: string) => fetch(`${server().base}${path}`, { headers: { cookie: server().cookie, ...(encoding ? { 'accept-encoding': encoding } : {}) } });
/** The body as sent, before fetch would unpack it. */
async function raw(path: string, encoding: string) {
  const { request } = await import('node:http');
  return new Promise<{ encoding: string | undefined; body: Buffer }>((ok, fail) => {
    request(`${server().base}${path}`, { headers: { cookie: server().cookie, 'accept-encoding': encoding } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d)).on('end', () => ok({ encoding: res.headers['content-encoding'], body: Buffer.concat(parts) }));
    })
      .on('error', fail)
      .end();
  });
}

describe('the built page over the wire', () => {
  const assets = () => readdirSync(join(ROOT, 'web/dist/assets')).filter((f) => /\.(js|css)$/.test(f));

  it('is sent packed, brotli before gzip, and unpacks to the file itself', async () => {
    for (const file of assets()) {
      const plain = Buffer.from(await (await get(`/assets/${file}`, 'identity')).arrayBuffer());
      const br = await raw(`/assets/${file}`, 'gzip, deflate, br');
      expect(br.encoding, file).toBe('br');
      expect(brotliDecompressSync(br.body).equals(plain), file).toBe(true);
      const gz = await raw(`/assets/${file}`, 'gzip');
      expect(gz.encoding).toBe('gzip');
      expect(gunzipSync(gz.body).equals(plain)).toBe(true);
      expect((await raw(`/assets/${file}`, 'identity')).encoding).toBeUndefined();
    }
  });

  it('a first load carries at most 250 KB of script and style', async () => {
    let bytes = 0;
    for (const file of assets()) bytes += (await raw(`/assets/${file}`, 'gzip, deflate, br')).body.length;
    expect(bytes).toBeLessThanOrEqual(250 * 1024);
  });
});
