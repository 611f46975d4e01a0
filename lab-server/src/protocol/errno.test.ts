import { describe, expect, it } from 'vitest';
import { errnoMessage, ERRNO_MESSAGES } from './errno.ts';

describe('errnoMessage', () => {
  it("says strerror's words in Chinese, alone or after a command's name", () => {
    expect(errnoMessage('EPERM', 'Operation not permitted', 'zh')).toBe('不允许的操作');
    expect(errnoMessage('ENOENT', 'ip: No such file or directory', 'zh')).toBe('ip: 没有那个文件或目录');
  });

  it('leaves English, unknown errnos and other words as they came', () => {
    expect(errnoMessage('EPERM', 'Operation not permitted', 'en')).toBe('Operation not permitted');
    expect(errnoMessage('exit 2', 'Cannot find device "x"', 'zh')).toBe('Cannot find device "x"');
    expect(errnoMessage('EINVAL', 'RTNETLINK answers: something else', 'zh')).toBe('RTNETLINK answers: something else');
  });

  it('has both languages for every errno it names', () => {
    for (const [errno, said] of Object.entries(ERRNO_MESSAGES)) {
      expect(said.en, errno).toMatch(/^[A-Z]/);
      expect(said.zh, errno).toMatch(/[\u4e00-\u9fff]/);
    }
  });
});
