import { describe, expect, it } from 'vitest';
import { pickEncoding } from './static.ts';

describe('the encoding a built file is sent in', () => {
  it('brotli where the browser takes it, then gzip, else the file as it is', () => {
    expect(pickEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(pickEncoding('gzip, deflate')).toBe('gzip');
    expect(pickEncoding('*')).toBe('gzip');
    expect(pickEncoding(undefined)).toBeNull();
    expect(pickEncoding('identity')).toBeNull();
  });

  it('a coding given q=0 is one the browser refuses', () => {
    expect(pickEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(pickEncoding('br;q=0, gzip;q=0')).toBeNull();
  });
});
