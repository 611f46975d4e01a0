// The one lifecycle every part of the page shows, from what the server sent: each state,
// and the edges that once made the page contradict itself (a shell that exited while the
// top bar said 20/20 and the panel said "no container process yet").
import { describe, expect, test } from 'vitest';
import { ended, lifeTone, lifecycle, offersAgain, shellAttached, type LifecycleInput } from './lifecycle.ts';
import type { Phase, StepResult } from '../../../lab-server/src/protocol/results.ts';

const steps = [
  { id: '01-clone', kind: 'clone' as const },
  { id: '02-hostname', kind: 'hostname' as const },
  { id: '03-exec', kind: 'exec' as const },
];
const result = (over: Partial<StepResult> & { phase: Phase }): StepResult => ({ ok: true, calls: [], notes: [], checks: [], ...over }) as unknown as StepResult;
const input = (over: Partial<LifecycleInput>): LifecycleInput => ({ phase: 'empty', results: {}, steps, running: null, lastRan: null, exit: null, ...over });

const built = { '01-clone': result({ phase: 'paused' }), '02-hostname': result({ phase: 'paused' }) };
const execd = { ...built, '03-exec': result({ phase: 'running' }) };

describe('the container lifecycle', () => {
  test('nothing cloned: none', () => {
    expect(lifecycle(input({}))).toEqual({ state: 'none' });
  });

  test('a step on its way: building, whatever the phase', () => {
    expect(lifecycle(input({ running: '01-clone' }))).toEqual({ state: 'building', step: '01-clone' });
    expect(lifecycle(input({ phase: 'paused', results: built, running: '03-exec' }))).toEqual({ state: 'building', step: '03-exec' });
  });

  test('a live process: running, before and after execve()', () => {
    expect(lifecycle(input({ phase: 'paused', results: built, lastRan: '02-hostname' }))).toEqual({ state: 'running', exec: false });
    const after = lifecycle(input({ phase: 'running', results: execd, lastRan: '03-exec' }));
    expect(after).toEqual({ state: 'running', exec: true });
    expect(shellAttached(after)).toBe(true);
    expect(shellAttached({ state: 'running', exec: false })).toBe(false);
  });

  test('the shell exited: exited with its code, and it was the shell', () => {
    const l = lifecycle(input({ phase: 'exited', results: execd, lastRan: '03-exec', exit: { code: 3, signal: null } }));
    expect(l).toEqual({ state: 'exited', exit: { code: 3, signal: null }, shell: true });
    expect(ended(l)).toBe(true);
    expect(shellAttached(l)).toBe(false);
  });

  test('a process killed before exec: exited, not a shell', () => {
    const l = lifecycle(input({ phase: 'exited', results: built, lastRan: '02-hostname', exit: { code: null, signal: 'SIGKILL' } }));
    expect(l).toEqual({ state: 'exited', exit: { code: null, signal: 'SIGKILL' }, shell: false });
  });

  test('a step that failed and took the process with it: failed at that step', () => {
    const broke = { ...built, '03-exec': result({ ok: false, phase: 'exited' }) };
    const l = lifecycle(input({ phase: 'exited', results: broke, lastRan: '03-exec', exit: { code: 127, signal: null } }));
    expect(l).toEqual({ state: 'failed', step: '03-exec', exit: { code: 127, signal: null } });
    expect(ended(l)).toBe(true);
  });

  test('a refusal after the exit is no failure: the process had ended before it', () => {
    const refused = { ...execd, '02-hostname': result({ ok: false, phase: 'exited', refusal: { code: 'child-exited', en: '', zh: '' } }) };
    expect(lifecycle(input({ phase: 'exited', results: refused, lastRan: '02-hostname', exit: { code: 0, signal: null } })).state).toBe('exited');
  });

  test('a failed step that left the process alive is still running', () => {
    const failed = { ...built, '02-hostname': result({ ok: false, phase: 'paused' }) };
    expect(lifecycle(input({ phase: 'paused', results: failed, lastRan: '02-hostname' }))).toEqual({ state: 'running', exec: false });
  });
});

describe('Run again', () => {
  test('only where the server says the step would run, and never once the process has ended', () => {
    const live = { state: 'running', exec: false } as const;
    expect(offersAgain(live, '02-hostname', ['02-hostname'])).toBe(true);
    expect(offersAgain(live, '01-clone', ['02-hostname'])).toBe(false);
    expect(offersAgain({ state: 'exited', exit: null, shell: true }, '02-hostname', ['02-hostname'])).toBe(false);
  });
});

describe('the tone of the lifecycle label, the same in the top bar and the panel', () => {
  test('a live process, paused or a shell, is alive; one that ended or failed is not; nothing yet is neither', () => {
    expect(lifeTone({ state: 'running', exec: false })).toBe('alive');
    expect(lifeTone({ state: 'running', exec: true })).toBe('alive');
    expect(lifeTone({ state: 'exited', exit: { code: 0, signal: null }, shell: true })).toBe('fail');
    expect(lifeTone({ state: 'failed', step: '20-exec', exit: null })).toBe('fail');
    expect(lifeTone({ state: 'none' })).toBe('none');
    expect(lifeTone({ state: 'building', step: '01-clone' })).toBe('none');
  });
});
