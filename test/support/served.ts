// `stepbox serve` as its own process, as an operator starts it: a port the kernel picks,
// the address it prints, and what a test needs to reach it, watch it and stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A process's resident memory now, from /proc/<pid>/status. */
export function rssBytes(pid: number | 'self'): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

export interface Served {
  proc: ChildProcess;
  /** The link it printed, token included. */
  url: string;
  /** http://127.0.0.1:<port> */
  base: string;
  token: string;
  /** The cookie header the page sends once it has traded the token. */
  cookie: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  alive(): boolean;
  /** Its resident memory now, from /proc/<pid>/status. */
  rssBytes(): number;
}

export interface ServeOptions {
  /** Seconds a closed tab's container waits to be re-attached. */
  grace?: number;
  /** More arguments for `stepbox serve`. */
  args?: string[];
  /** Arguments for node before the script, e.g. --import of a test's fault injector. */
  node?: string[];
  env?: Record<string, string>;
}

/** A stepbox command as its own process, killed if the test process exits first, with all it prints kept. */
function spawnLab(argv: string[], env: Record<string, string> = {}): { proc: ChildProcess; output: () => string } {
  const proc = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const orphan = () => proc.kill('SIGTERM');
  process.once('exit', orphan);
  proc.once('exit', () => process.off('exit', orphan));
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { proc, output: () => out };
}

export interface Workshop {
  proc: ChildProcess;
  /** The instructor's link to the dashboard, token included. */
  dashboard: string;
  /** The students' join link. */
  join: string;
  origin: string;
  /** The certificate's SHA-256 fingerprint as printed. */
  fingerprint: string;
  output(): string;
}

/** `stepbox workshop` on loopback, a port the kernel picks, a self-signed certificate. */
export function startWorkshop(args: string[] = []): Promise<Workshop> {
  const { proc, output } = spawnLab(['lab-server/bin/stepbox.mjs', 'workshop', '--host', '127.0.0.1', '--port', '0', ...args]);
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`stepbox workshop printed no links in 30 s:\n${output()}`)), 30_000);
    const look = () => {
      const dashboard = /(https?:\/\/\S+\/dashboard\?token=\S+)/.exec(output())?.[1];
      const join = /(https?:\/\/\S+\/join\?code=\S+)/.exec(output())?.[1];
      const fingerprint = /SHA-256 ([0-9A-F:]{95})/.exec(output())?.[1];
      if (!dashboard || !join || !fingerprint) return;
      clearTimeout(timer);
      proc.stdout!.off('data', look);
      ok({ proc, dashboard, join, origin: new URL(join).origin, fingerprint, output });
    };
    proc.stdout!.on('data', look);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`stepbox workshop exited with ${code}:\n${output()}`));
    });
  });
}

export function startServer({ grace = 5, args = [], node = [], env = {} }: ServeOptions = {}): Promise<Served> {
  const argv = [...node, 'lab-server/bin/stepbox.mjs', 'serve', '--port', '0', '--grace', String(grace), ...args];
  const { proc, output } = spawnLab(argv, env);
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`stepbox serve printed no address in 30 s:\n${output()}`)), 30_000);
    const look = () => {
      const m = /stepbox is ready: (http:\/\/\S+)/.exec(output());
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', look);
      const url = new URL(m[1]!);
      const token = url.searchParams.get('token')!;
      ok({
        proc,
        url: m[1]!,
        base: url.origin,
        token,
        cookie: `stepbox_token=${token}`,
        output,
        alive: () => proc.exitCode === null && proc.signalCode === null,
        rssBytes: () => rssBytes(proc.pid!),
      });
    };
    proc.stdout!.on('data', look);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`stepbox serve exited with ${code}:\n${output()}`));
    });
  });
}

/** Send a signal (SIGTERM: as an operator stops it) and wait until it has exited. */
export async function stopServer(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: string | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null) return { code: proc.exitCode, signal: proc.signalCode };
  const exited = new Promise<{ code: number | null; signal: string | null }>((ok) => proc.once('exit', (code, sig) => ok({ code, signal: sig })));
  proc.kill(signal);
  const late = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const how = await exited;
  clearTimeout(late);
  return how;
}

/** Wait for a process that is going down by itself. */
export function exited(proc: ChildProcess, ms = 20_000): Promise<{ code: number | null; signal: string | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`still running after ${ms} ms`)), ms);
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      ok({ code, signal: sig });
    });
  });
}
