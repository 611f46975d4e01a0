// The lifecycle (lifecycle.ts) in the page's words, so that the top bar, the kernel panel,
// the steps and the terminal say the same thing the same way.
import { t } from './i18n.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { ExitStatus } from './protocol.ts';

/** "code 0", "killed by SIGKILL", or why there is no answer. */
export function exitDetail(exit: ExitStatus | null): string {
  if (!exit) return t('exit.unknown');
  if (exit.signal) return t('exit.signal', { signal: exit.signal });
  if (exit.code !== null) return t('exit.code', { n: exit.code });
  return t('exit.helper');
}

/** Step `id`'s number in the lesson, from 1. */
function numberOf(id: string, steps: readonly { id: string }[]): number {
  return steps.findIndex((s) => s.id === id) + 1;
}

/** A few words for a badge: the top bar's and the kernel panel's. */
export function lifeLabel(l: Lifecycle, steps: readonly { id: string }[]): string {
  switch (l.state) {
    case 'none':
      return t('life.none');
    case 'building':
      return t('life.building', { n: numberOf(l.step, steps) });
    case 'running':
      return l.exec ? t('life.shell') : t('life.paused');
    case 'exited':
      return t('life.exited', { detail: exitDetail(l.exit) });
    case 'failed':
      return t('life.failed', { n: numberOf(l.step, steps) });
  }
}

/** The one sentence shown once the process has ended; null while it lives. */
export function endedMessage(l: Lifecycle, steps: readonly { id: string }[]): string | null {
  if (l.state === 'exited') return t(l.shell ? 'exitMsg.shell' : 'exitMsg.process', { detail: exitDetail(l.exit) });
  if (l.state === 'failed') return t('exitMsg.failed', { n: numberOf(l.step, steps), detail: exitDetail(l.exit) });
  return null;
}
