// Type a command into a session's shell and collect what it prints, the way a student
// would see it. Markers are typed split in two ("__SB""END__") so that the terminal's
// echo of the typed line never matches what the shell prints.
import type { Session } from './session.ts';

const BEGIN = '__SBBEGIN__';
const END = '__SBEND__';

export function typeAndCapture(session: Session, command: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('utf8');
      const start = text.indexOf(`${BEGIN}\r\n`);
      const end = text.indexOf(END, start + 1);
      if (start >= 0 && end > start) {
        done();
        resolve(text.slice(start + BEGIN.length + 2, end).replace(/\r\n/g, '\n').replace(/\n$/, ''));
      }
    };
    const onExit = () => {
      done();
      reject(new Error(`the shell exited before the command finished; it printed:\n${text}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no answer from the shell within ${timeoutMs} ms; it printed:\n${text}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      session.off('output', onData);
      session.off('exit', onExit);
    };
    session.on('output', onData);
    session.on('exit', onExit);
    // A command ending in & already ends its list: another ; would be a syntax error.
    const sep = /&\s*$/.test(command) ? ' ' : '; ';
    session.write(`echo ${BEGIN.slice(0, 4)}""${BEGIN.slice(4)}; ${command}${sep}echo ${END.slice(0, 4)}""${END.slice(4)}\n`);
  });
}
