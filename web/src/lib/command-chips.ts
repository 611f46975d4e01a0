// Commands in lesson text that a student may type into the container's shell. A lesson
// opts in by starting a code span with "$ " (`$ cat /proc/self/cgroup`): guessing from the
// first word would also turn prose about a tool ("run `hostname` on the host") into a
// button that types it into the wrong machine.

const MAX_COMMAND = 200;

/** The command of a code span written `$ command`, or null for any other code span. */
export function commandOf(span: string): string | null {
  if (!span.startsWith('$ ')) return null;
  const command = span.slice(2).trim();
  if (command === '' || command.length > MAX_COMMAND || /[\n\r\t\x00-\x1f\x7f]/.test(command)) return null;
  return command;
}
