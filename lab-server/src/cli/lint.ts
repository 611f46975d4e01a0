// `stepbox lessons lint`: load every lesson and report what is wrong with its files.
import { listLessons, loadLesson } from '../lessons/load.ts';

export function lint(): number {
  let failed = 0;
  for (const id of listLessons()) {
    try {
      const lesson = loadLesson(id);
      console.log(`✓ ${id}: ${lesson.steps.length} steps`);
    } catch (e) {
      failed++;
      console.log(`✗ ${(e as Error).message}`);
    }
  }
  return failed ? 1 : 0;
}
