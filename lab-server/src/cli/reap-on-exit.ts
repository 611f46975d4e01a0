// A lab that goes down leaves nothing behind if it can help it. Ctrl+C, SIGTERM (systemd,
// kill), SIGHUP (the terminal closed) and a bug that escapes every handler all end here:
// every session is reaped (processes, cgroups, mounts, loop devices, veth pairs, session
// directories) before the process exits. Only SIGKILL and a power cut get past; the next
// start's reapAll is the second net for those.

/** Long enough to reap a room of sessions (one takes ~20 ms); short enough that a stuck reap still exits. */
const REAP_TIMEOUT_MS = 10_000;

export interface ReapOnExit {
  /** Reap now and exit with this code (e.g. when the command's own work is done). */
  exit(code: number): Promise<never>;
}

/**
 * Say something on stderr, if anyone still listens. The terminal that started the lab may
 * be gone (SIGHUP), or its output piped into a program that has exited: a write then fails
 * with EPIPE, and that must not stop the reap.
 */
function say(text: string): void {
  try {
    process.stderr.write(`${text}\n`);
  } catch {
    // nobody is listening
  }
}

export function reapOnExit(reap: () => Promise<void>, { signalCode = 0 }: { signalCode?: number } = {}): ReapOnExit {
  // Output nobody reads fails asynchronously, as an 'error' event: unheard, it would be an
  // uncaught exception in the middle of the reap.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  let leaving: Promise<never> | null = null;
  const leave = (code: number, why: string | null): Promise<never> => {
    if (leaving) return leaving;
    // Not unref'd: this timer is what ends a reap that hangs.
    setTimeout(() => {
      say(`[stepbox] the reap did not finish within ${REAP_TIMEOUT_MS / 1000} s; exiting anyway (stepbox cleanup removes the rest)`);
      process.exit(code || 1);
    }, REAP_TIMEOUT_MS);
    leaving = reap().then(
      () => process.exit(code),
      (e: Error) => {
        say(`[stepbox] the reap failed: ${e.stack ?? e}`);
        process.exit(code || 1);
      },
    );
    if (why) say(`\n[stepbox] ${why}: reaping every session before exiting…`);
    return leaving;
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void leave(signalCode, signal));
  // Node would print the error and exit without running any cleanup: print it, reap, exit 1.
  process.on('uncaughtException', (e) => {
    say(`[stepbox] uncaught exception: ${e.stack ?? e}`);
    void leave(1, 'a fatal error');
  });
  process.on('unhandledRejection', (e) => {
    say(`[stepbox] unhandled rejection: ${(e as Error)?.stack ?? e}`);
    void leave(1, 'a fatal error');
  });
  return { exit: (code) => leave(code, null) };
}
