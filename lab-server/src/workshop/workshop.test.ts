import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { tlsPlan } from '../cli/workshop.ts';
import { Guard } from '../server/guard.ts';
import { DisplayName } from '../protocol/workshop.ts';
import { stuck, STUCK_AFTER_MS, STUCK_REFUSALS } from './dashboard.ts';
import { Roster } from './roster.ts';
import { selfSigned } from './tls.ts';

const req = (cookie: string) => ({ headers: { cookie } }) as IncomingMessage;

describe('who a request is', () => {
  const guard = new Guard({ port: 8443, allowHosts: [], scheme: 'https', joinCode: 'the-code' });

  it('the token makes the instructor; the join code and a student id make a student', () => {
    expect(guard.role(req(`stepbox_token=${guard.token}`))).toBe('instructor');
    expect(guard.role(req('stepbox_join=the-code; stepbox_student=abc'))).toBe('student');
    expect(guard.student(req('stepbox_join=the-code; stepbox_student=abc'))).toBe('abc');
  });

  it('a join code alone, a wrong one, or none is nobody', () => {
    expect(guard.role(req('stepbox_join=the-code'))).toBeNull();
    expect(guard.role(req('stepbox_join=wrong; stepbox_student=abc'))).toBeNull();
    expect(guard.role(req(''))).toBeNull();
    expect(new Guard({ port: 1, allowHosts: [] }).role(req('stepbox_join=undefined; stepbox_student=abc'))).toBeNull();
  });

  it('over HTTPS, cookies are Secure and a page of ours has an https Origin', () => {
    expect(guard.setCookie()).toMatch(/; Secure$/);
    expect(guard.setStudentCookies('s').every((c) => c.includes('; Secure') && c.includes('SameSite=Lax'))).toBe(true);
    expect(guard.originOk({ headers: { origin: 'https://127.0.0.1:8443', host: '127.0.0.1:8443' } } as IncomingMessage)).toBe(true);
    expect(guard.originOk({ headers: { origin: 'http://127.0.0.1:8443', host: '127.0.0.1:8443' } } as IncomingMessage)).toBe(false);
  });
});

describe('the roster', () => {
  it('knows a student by the secret, shows them by a short id that is not it', () => {
    const r = new Roster();
    const { secret, student } = r.join()!;
    expect(r.get(secret)).toBe(student);
    expect(student.id).toHaveLength(8);
    expect(secret).not.toContain(student.id);
    expect(r.byId(student.id)).toBe(student);
    expect(r.get('nobody')).toBeUndefined();
  });

  it('ids are hex, so none begins with a character a spreadsheet reads as a formula', () => {
    const r = new Roster();
    for (let i = 0; i < 200; i++) expect(r.join()!.student.id).toMatch(/^[0-9a-f]{8}$/);
  });
});

describe('display names', () => {
  it('one printable line of 1 to 40 characters, trimmed', () => {
    expect(DisplayName.parse('  李雷 ')).toBe('李雷');
    for (const bad of ['', '   ', 'a\nb', 'x'.repeat(41), 'bell\u0007', 'rtl\u202e']) expect(DisplayName.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});

describe('a stuck student', () => {
  const play = (over: Partial<{ refusalsInRow: number; lastProgress: number; next: string | null }>) => ({
    play: { refusalsInRow: over.refusalsInRow ?? 0, lastProgress: over.lastProgress ?? 0, next: () => (over.next === undefined ? '02-x' : over.next) } as never,
  });

  it('keeps being refused, or makes no progress for a while with steps left', () => {
    expect(stuck(play({ refusalsInRow: STUCK_REFUSALS }), 0)?.en).toBe(`${STUCK_REFUSALS} refusals in a row`);
    expect(stuck(play({ lastProgress: 0 }), STUCK_AFTER_MS)?.en).toBe('no progress for 5 min');
    expect(stuck(play({ lastProgress: 0 }), STUCK_AFTER_MS - 1)).toBeNull();
  });

  it('is not stuck once every step is done', () => {
    expect(stuck(play({ lastProgress: 0, next: null }), 10 * STUCK_AFTER_MS)).toBeNull();
  });
});

describe('TLS', () => {
  it('plain HTTP on loopback only; cert and key together', () => {
    expect(tlsPlan({ host: '127.0.0.1', tls: false })).toBe('none');
    expect(tlsPlan({ host: '0.0.0.0', tls: false })).toEqual({ error: expect.stringMatching(/loopback only/) });
    expect(tlsPlan({ host: '0.0.0.0', tls: true })).toBe('self-signed');
    expect(tlsPlan({ host: '0.0.0.0', tls: true, tlsCert: 'c', tlsKey: 'k' })).toBe('given');
    expect(tlsPlan({ host: '0.0.0.0', tls: true, tlsCert: 'c' })).toEqual({ error: expect.stringMatching(/go together/) });
  });

  it('a self-signed certificate names the hosts it was made for, with its fingerprint', () => {
    const c = selfSigned(['192.0.2.7', 'lab.example']);
    expect(c.names).toMatch(/IP Address:192\.0\.2\.7/);
    expect(c.names).toMatch(/DNS:lab\.example/);
    expect(c.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});
