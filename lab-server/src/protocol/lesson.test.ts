import { describe, expect, it } from 'vitest';
import { kernelAtLeast } from './lesson.ts';

describe('a task that needs a newer kernel', () => {
  it('compares the release as uname -r prints it with a major.minor version', () => {
    expect(kernelAtLeast('6.1.0-57-amd64', '6.6')).toBe(false);
    expect(kernelAtLeast('6.6.0', '6.6')).toBe(true);
    expect(kernelAtLeast('6.18.44-fc-v1272', '6.6')).toBe(true);
    expect(kernelAtLeast('5.15.0-91-generic', '6.6')).toBe(false);
    expect(kernelAtLeast('7.0.1', '6.6')).toBe(true);
  });
});
