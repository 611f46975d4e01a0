// The labels of a lesson's command chips in the page's language, and whether a shell is
// there for them to type into (lifecycle.ts): what renderMarkdown needs to draw them.
import { t } from './i18n.ts';
import type { ChipWords } from './markdown.ts';

export function chipWords(shell: boolean): ChipWords {
  return { shell, type: t('chipType'), copy: t('chipCopy') };
}
