// Any web page the student visits can send requests to the lab's port, and a client that
// is not a browser can send anything at all. Every malformed target and header, with and
// without the cookie, gets an HTTP answer, and the server is alive afterwards. Sent on raw
// sockets: a client library would normalise most of these before they left.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, stopServer, type Served } from '../support/served.ts';

let lab: Served;
let port: number;

beforeAll(async () => {
  lab = await startServer();
  port = Number(new URL(lab.base).port);
});
afterAll(async () => {
  await stopServer(lab.proc);
});

/** Send raw bytes, read until a status line has arrived or the server closed. */
function exchange(raw: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in 5 s to ${JSON.stringify(String(raw).slice(0, 80))}; got ${JSON.stringify(text)}`));
    }, 5000);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text);
    };
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (/^HTTP\/1\.1 \d{3} .*\r\n/.test(text)) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(raw);
  });
}

const host = () => `Host: 127.0.0.1:${port}\r\n`;
const upgrade = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

/** Request lines and headers a browser never sends but a probe does. */
const targets = ['//', '//%', '//a:b@', '//[', '//127.0.0.1/', '/%', '/%zz', '/%ff', '/%c0%ae', '/%c0%ae%c0%ae/etc/passwd', '/%00', '/index.html%00.js', '/..%2f..%2fetc/passwd', '/../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/\\..\\..\\etc', '/?token=%zz', '/?token=', '/?token=%00', '/api/%2e%2e/', '/api/source/..%2f..%2fpackage.json', '/assets/%ff.js', `/${'a'.repeat(3000)}`, '*', 'http://127.0.0.1/', 'http://[/', 'a:b'];

const corpus = (cookie: string): [string, string][] => [
  ...targets.map((t): [string, string] => [`GET ${t}`, `GET ${t} HTTP/1.1\r\n${host()}${cookie}\r\n`]),
  ...targets.map((t): [string, string] => [`upgrade to ${t}`, `GET ${t} HTTP/1.1\r\n${host()}${cookie}Origin: http://127.0.0.1:${port}\r\n${upgrade}\r\n`]),
  ['upgrade to // with a foreign Host', `GET // HTTP/1.1\r\nHost: evil.example\r\n${cookie}${upgrade}\r\n`],
  ['upgrade to //% with no Host', `GET //% HTTP/1.1\r\n${cookie}${upgrade}\r\n`],
  ['upgrade without a key', `GET /ws HTTP/1.1\r\n${host()}${cookie}Origin: http://127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`],
  ['upgrade with version 99', `GET /ws HTTP/1.1\r\n${host()}${cookie}Origin: http://127.0.0.1:${port}\r\n${upgrade.replace('13', '99')}\r\n`],
  ['upgrade with a foreign Origin', `GET /ws HTTP/1.1\r\n${host()}${cookie}Origin: http://evil.example\r\n${upgrade}\r\n`],
  ['OPTIONS *', `OPTIONS * HTTP/1.1\r\n${host()}${cookie}\r\n`],
  ['CONNECT', `CONNECT 127.0.0.1:22 HTTP/1.1\r\n${host()}${cookie}\r\n`],
  ['POST with a body', `POST /api/lessons HTTP/1.1\r\n${host()}${cookie}Content-Length: 5\r\n\r\nhello`],
  ['DELETE', `DELETE / HTTP/1.1\r\n${host()}${cookie}\r\n`],
  ['a made-up method', `BREW / HTTP/1.1\r\n${host()}${cookie}\r\n`],
  ['HTTP/9.9', `GET / HTTP/9.9\r\n${host()}${cookie}\r\n`],
  ['HTTP/1.0 without Host', `GET / HTTP/1.0\r\n${cookie}\r\n`],
  ['no Host', `GET / HTTP/1.1\r\n${cookie}\r\n`],
  ['an empty Host', `GET / HTTP/1.1\r\nHost: \r\n${cookie}\r\n`],
  ['two Hosts', `GET / HTTP/1.1\r\n${host()}Host: evil.example\r\n${cookie}\r\n`],
  ['a Host with a NUL', `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\0\r\n${cookie}\r\n`],
  ['a header without a colon', `GET / HTTP/1.1\r\n${host()}${cookie}Nonsense\r\n\r\n`],
  ['a header name with a space', `GET / HTTP/1.1\r\n${host()}${cookie}Bad Name: x\r\n\r\n`],
  ['32 KiB of headers', `GET / HTTP/1.1\r\n${host()}${cookie}X-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`],
  ['a negative Content-Length', `GET / HTTP/1.1\r\n${host()}${cookie}Content-Length: -1\r\n\r\n`],
  ['Content-Length and chunked together', `GET / HTTP/1.1\r\n${host()}${cookie}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`],
  ['a bad chunk', `POST / HTTP/1.1\r\n${host()}${cookie}Transfer-Encoding: chunked\r\n\r\nzz\r\n`],
  ['a cookie header of nonsense', `GET / HTTP/1.1\r\n${host()}Cookie: ;;;=;stepbox_token;stepbox_token==\r\n\r\n`],
  ['a garbage request line', `GARBAGE\r\n\r\n`],
  ['binary noise', `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n`],
];

describe.each([
  ['without the cookie', () => ''],
  ['with the cookie', () => `Cookie: ${lab.cookie}\r\n`],
])('%s', (_name, cookie) => {
  it('answers every malformed request with an HTTP status, and stays up', async () => {
    for (const [name, raw] of corpus(cookie())) {
      const answer = await exchange(raw);
      expect(answer, name).toMatch(/^HTTP\/1\.1 [1-5]\d\d /);
      // Nothing opens a WebSocket or hands out the cookie; a path that is not a file of the
      // page gets the page itself (deep links), never a file from elsewhere.
      expect(answer, name).not.toMatch(/^HTTP\/1\.1 (101|303)/);
      if (/^HTTP\/1\.1 200/.test(answer)) expect(answer, name).toContain('<title>stepbox</title>');
      expect(lab.alive(), `the server died on ${name}:\n${lab.output()}`).toBe(true);
    }
  }, 120_000);
});

it('still serves the page after all of it', async () => {
  const answer = await exchange(`GET /api/lessons HTTP/1.1\r\n${host()}Cookie: ${lab.cookie}\r\n\r\n`);
  expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  expect(lab.output()).not.toMatch(/uncaught|unhandled|a request failed/);
});

it('a page on another origin cannot stop the lab with an image tag', async () => {
  // What <img src="http://127.0.0.1:PORT//"> sends: no cookie (SameSite), a foreign Referer.
  const answer = await exchange(`GET // HTTP/1.1\r\n${host()}Referer: http://evil.example/\r\nSec-Fetch-Site: cross-site\r\nAccept: image/*\r\n\r\n`);
  expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  expect(lab.alive()).toBe(true);
});
