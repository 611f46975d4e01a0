// A command chip asked for the container's shell: the terminal dock shows its main tab and
// focuses it, and on a phone the page switches to the terminal view. A counter, so that
// the same request twice is two requests.
export const shellRequest = $state({ seq: 0 });
