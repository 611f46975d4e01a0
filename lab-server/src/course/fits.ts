// Whether this machine can play a lesson at all: one about cgroup v2 itself needs its
// controllers there, and some need the machine's own root, which a seat does not give.
// Said in the student's words, on the page and by `play`, never silently.
import type { CgroupTree } from '../cgroup/tree.ts';
import { lessonControllers, type Lesson } from '../protocol/lesson.ts';
import type { Controller } from '../protocol/kernel.ts';
import type { Said } from '../protocol/results.ts';

export function lessonNotHere(lesson: Lesson, cgroups: CgroupTree, seated = false): Said | null {
  if (seated && lesson.notInSeat) return { en: `Not in a seat: ${lesson.notInSeat.en}`, zh: `座位（seat）里不能学这一课：${lesson.notInSeat.zh}` };
  if (lesson.cgroup !== 2) return null;
  const elsewhere = lessonControllers(lesson).filter((c) => cgroups.home(c as Controller)?.hierarchy.version !== 2);
  if (elsewhere.length === 0) return null;
  const list = elsewhere.length === 1 ? elsewhere[0]! : `${elsewhere.slice(0, -1).join(', ')} and ${elsewhere.at(-1)}`;
  const zhList = elsewhere.join('、');
  const mode = cgroups.host.mode;
  return {
    en: `This lesson is about cgroup v2 and needs ${list} there, but this machine runs cgroup ${mode === 'v1' ? 'v1' : 'v1 and v2 side by side (hybrid)'} and keeps ${list} on v1. A machine that boots with cgroup v2 only can play it: Debian 11 and later, Ubuntu 21.10 and later, Fedora 31 and later do by default.`,
    zh: `本课讲的是 cgroup v2，需要 ${zhList} 在 v2 上；而这台机器运行的是 ${mode === 'v1' ? 'cgroup v1' : 'cgroup v1 与 v2 并存（混合模式）'}，${zhList} 在 v1 上。只用 cgroup v2 启动的机器可以学这一课：Debian 11 及以后、Ubuntu 21.10 及以后、Fedora 31 及以后默认都是这样。`,
  };
}
