// The lesson picker's sections. A lesson's folder name says what it is about: `ns-…` one
// namespace, `cg-…` one cgroup subsystem; the chapter's own lesson comes first and any
// other (a demonstration like breakout) last.
import type { Said } from './protocol.ts';

export type LessonGroup = 'chapter' | 'namespaces' | 'cgroups' | 'more';

const GROUP_ORDER: LessonGroup[] = ['chapter', 'namespaces', 'cgroups', 'more'];

function groupOf(id: string): LessonGroup {
  if (id === 'book') return 'chapter';
  if (id.startsWith('ns-')) return 'namespaces';
  if (id.startsWith('cg-')) return 'cgroups';
  return 'more';
}

/** Lessons by section, in GROUP_ORDER, each section keeping the server's order; empty ones left out. */
export function groupLessons<L extends { id: string; title: Said }>(lessons: L[]): { group: LessonGroup; lessons: L[] }[] {
  return GROUP_ORDER.map((group) => ({ group, lessons: lessons.filter((l) => groupOf(l.id) === group) })).filter((g) => g.lessons.length > 0);
}
