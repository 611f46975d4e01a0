import { describe, expect, it } from 'vitest';
import { History } from './history.ts';

const text = (h: History) => h.bytes().toString();

describe('History', () => {
  it('keeps everything while it fits', () => {
    const h = new History(8);
    h.push(Buffer.from('ab'));
    h.push(Buffer.from('cde'));
    expect(text(h)).toBe('abcde');
  });
  it('keeps the last bytes once it wraps, oldest first', () => {
    const h = new History(8);
    for (const s of ['abc', 'def', 'ghi', 'jk']) h.push(Buffer.from(s));
    expect(text(h)).toBe('defghijk');
  });
  it('fills exactly to its end', () => {
    const h = new History(4);
    h.push(Buffer.from('ab'));
    h.push(Buffer.from('cd'));
    expect(text(h)).toBe('abcd');
    h.push(Buffer.from('e'));
    expect(text(h)).toBe('bcde');
  });
  it('takes a write longer than itself', () => {
    const h = new History(4);
    h.push(Buffer.from('x'));
    h.push(Buffer.from('0123456789'));
    expect(text(h)).toBe('6789');
    h.push(Buffer.from('a'));
    expect(text(h)).toBe('789a');
  });
  it('is empty at first', () => {
    expect(new History(4).bytes().length).toBe(0);
  });
});
