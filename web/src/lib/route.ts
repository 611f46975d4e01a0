// Deep links: #/<lesson>/<step>, e.g. #/book/05-join-cpuset. The hash is the only
// routing the page needs, so it works from a static file server too.

export interface Route {
  lesson: string | null;
  step: string | null;
}

const LESSON = /^[a-z0-9-]{1,40}$/;
const STEP = /^\d{2}-[a-z0-9-]+$/;

export function parseHash(hash: string): Route {
  const [lesson, step] = hash.replace(/^#\/?/, '').split('/');
  return {
    lesson: lesson && LESSON.test(lesson) ? lesson : null,
    step: step && STEP.test(step) ? step : null,
  };
}

export function stepHash(lesson: string, step: string): string {
  return `#/${lesson}/${step}`;
}
