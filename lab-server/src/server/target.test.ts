// The request target is read without trusting it: nothing throws, and only a plain path
// gets through. No root, no server: the parser alone.
import { describe, expect, it } from 'vitest';
import { parseTarget } from './target.ts';

describe('parseTarget', () => {
  it('reads a plain path and its query', () => {
    const t = parseTarget('/assets/index-abc.js?token=ab%2Fcd');
    expect(t?.path).toBe('/assets/index-abc.js');
    expect(t?.query.get('token')).toBe('ab/cd');
  });

  it('decodes percent-encoded paths', () => {
    expect(parseTarget('/a%20b')?.path).toBe('/a b');
    expect(parseTarget('/%E4%B8%AD')?.path).toBe('/中');
  });

  it.each([
    ['an empty target', ''],
    ['no target at all', undefined],
    ['a scheme-relative path', '//'],
    ['a scheme-relative path with a bad escape', '//%'],
    ['userinfo', '//a:b@'],
    ['a bracket where a host would be', '//['],
    ['a backslash after the slash', '/\\evil.example'],
    ['an absolute URL', 'http://127.0.0.1/'],
    ['the asterisk of OPTIONS', '*'],
    ['an authority (CONNECT)', '127.0.0.1:7878'],
    ['a lone percent', '/%'],
    ['a bad escape', '/%zz'],
    ['an overlong UTF-8 dot', '/%c0%ae'],
    ['an invalid byte', '/%ff'],
    ['an encoded NUL', '/index.html%00.js'],
    ['an encoded backslash', '/..%5c..%5cetc'],
    ['a huge target', `/${'a'.repeat(5000)}`],
  ])('refuses %s', (_name, raw) => {
    expect(parseTarget(raw)).toBeNull();
  });

  it('leaves path traversal to the file server, which normalises it', () => {
    // Decoding is all this does; static.ts keeps the result under web/dist.
    expect(parseTarget('/%2e%2e/%2e%2e/etc/passwd')?.path).toBe('/../../etc/passwd');
  });

  it('never throws on a malformed query', () => {
    expect(parseTarget('/?token=%zz&&=&%')?.query.get('token')).toBe('%zz');
  });
});
