import { describe, expect, test } from 'vitest';
import { placeToRestore, stepInView } from './place.ts';

const steps = [{ id: '01-clone' }, { id: '02-idmap' }, { id: '03-cgroup-create' }];

describe('keeping the student\'s place', () => {
  test('the step in view is the first whose cell reaches below the bar', () => {
    const cells = [
      { id: '01-clone', top: -900, bottom: 12 },
      { id: '02-idmap', top: 12, bottom: 400 },
      { id: '03-cgroup-create', top: 400, bottom: 900 },
    ];
    // Only the end of step 1 is left under the bar: step 2 is the one being read.
    expect(stepInView(cells, 0, 720)).toBe('02-idmap');
    expect(stepInView(cells, -1000, 600)).toBe('01-clone');
    expect(stepInView(cells, 450, 850)).toBe('03-cgroup-create');
    expect(stepInView(cells, 2000, 2500)).toBeNull();
  });

  test('a deep link wins, then the kept step, then the next step once any has run', () => {
    expect(placeToRestore({ linked: '02-idmap', saved: '03-cgroup-create', steps, next: '01-clone', anyRan: true })).toBeNull();
    expect(placeToRestore({ linked: null, saved: '03-cgroup-create', steps, next: '02-idmap', anyRan: true })).toBe('03-cgroup-create');
    expect(placeToRestore({ linked: null, saved: null, steps, next: '02-idmap', anyRan: true })).toBe('02-idmap');
    expect(placeToRestore({ linked: null, saved: null, steps, next: '01-clone', anyRan: false })).toBeNull();
  });

  test('a kept step this lesson no longer has is forgotten', () => {
    expect(placeToRestore({ linked: null, saved: '09-gone', steps, next: null, anyRan: false })).toBeNull();
  });
});
