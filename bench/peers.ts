// The web terminals the lab is measured against, started for a benchmark and stopped after:
// wetty (npm: node-pty and socket.io, the nearest peer in this stack), installed on first
// use into bench/.peers, and shellinabox (Debian's shellinaboxd, C, HTTP long polling).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PEERS = resolve(dirname(fileURLToPath(import.meta.url)), '.peers');
export const WETTY_VERSION = '3.2.0';

/** wetty's own directory, installed once (npm would not build its node-pty without allowScripts). */
export function wettyDir(): string {
  const dir = join(PEERS, 'node_modules', 'wetty');
  if (existsSync(join(dir, 'build', 'main.js')) && existsSync(join(PEERS, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'))) return dir;
  mkdirSync(PEERS, { recursive: true });
  writeFileSync(join(PEERS, 'package.json'), JSON.stringify({ private: true, allowScripts: { 'node-pty': true, '@parcel/watcher': false } }, null, 2));
  console.error(`installing wetty ${WETTY_VERSION} into ${PEERS} (once)…`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', `wetty@${WETTY_VERSION}`], { cwd: PEERS, stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

/** What the benchmark uses of a socket.io client socket. */
export interface IoSocket {
  emit(event: string, ...args: unknown[]): void;
  on(event: string, listener: (...args: never[]) => void): void;
  once(event: string, listener: (...args: never[]) => void): void;
  close(): void;
}

/** socket.io's client, from wetty's own dependencies, so both ends are the versions wetty ships. */
export function socketIoClient(): (url: string, options: Record<string, unknown>) => IoSocket {
  return createRequire(join(PEERS, 'package.json'))('socket.io-client');
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
    s.once('error', fail);
  });
}

/** Resolves once something accepts connections on the port. */
async function listening(port: number, proc: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode}) before listening`);
    const up = await new Promise<boolean>((ok) => {
      const c = connect(port, '127.0.0.1', () => (c.destroy(), ok(true)));
      c.once('error', () => ok(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not listen on ${port}`);
}

export interface Peer {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

function peer(proc: ChildProcess, port: number): Peer {
  return {
    port,
    proc,
    stop: () =>
      new Promise((ok) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return ok();
        proc.once('exit', () => ok());
        proc.kill('SIGTERM');
      }),
  };
}

/** wetty running `shell` (a command line) for each client, on 127.0.0.1. */
export async function startWetty(shell: string, env: Record<string, string>): Promise<Peer> {
  const dir = wettyDir();
  const port = await freePort();
  const proc = spawn(process.execPath, [join(dir, 'build', 'main.js'), '--host', '127.0.0.1', '--port', String(port), '--base', '/wetty/', '--command', shell, '--log-level', 'error'], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await listening(port, proc, 'wetty');
  return peer(proc, port);
}

/** shellinaboxd running `shell` as root for each session, plain HTTP on 127.0.0.1. */
export async function startShellinabox(shell: string, env: Record<string, string>): Promise<Peer> {
  const port = await freePort();
  // Found on the benchmark's own PATH: the shell's environment below has only the image's.
  const bin = execFileSync('sh', ['-c', 'command -v shellinaboxd'], { encoding: 'utf8' }).trim();
  const proc = spawn(bin, ['--disable-ssl', '--localhost-only', '--quiet', '--no-beep', '-u', 'root', '-g', 'root', '-p', String(port), '-s', `/:root:root:/:${shell}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await listening(port, proc, 'shellinaboxd');
  return peer(proc, port);
}
