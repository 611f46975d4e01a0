// A room of students on one lab server: N clients speaking the page's protocol join within
// a minute, click through the book with a student's pauses between steps, and type into
// the container's shell. For each room size: step latency (click to result) p50/p99,
// keystroke echo p99, the server's memory, the machine's memory per student, and the load.
// The largest room whose step p99 stays within 100 ms is the figure a workshop sizes by.
// Run as root: npm run bench:room  (ROOMS=10,20 to choose the sizes; SEATS=1 seals every
// student in a seat, as a shared machine should: stepbox serve --seats)
import { loadavg } from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import WebSocket from 'ws';
import { startServer, stopServer, type Served } from '../test/support/served.ts';
import { f, stats, table } from './stats.ts';

const ROOMS = (process.env.ROOMS ?? '10,20,40,60,100').split(',').map(Number);
const JOIN_WINDOW_MS = Number(process.env.JOIN_WINDOW_MS ?? 60_000);
const SEATS = process.env.SEATS === '1';
const THINK_MS: [number, number] = [500, 2500];
const ECHOES = 5;
const STEP_P99_GOAL_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const think = () => sleep(THINK_MS[0] + Math.random() * (THINK_MS[1] - THINK_MS[0]));

/**
 * What the students' containers take, from the kernel: the proportional set size (PSS,
 * shared pages split between their users) of every helper and of every process in one of
 * the lab's session groups, in bytes. The machine's free memory moves too much with its
 * page cache to show a megabyte per student.
 */
function containersPss(): number {
  let sum = 0;
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm !== 'stepper' && !/\/stepbox\/\d+-(\d+|seat-\d+)/.test(cgroup)) continue;
      const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      sum += Number(pss?.[1] ?? 0) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** One student: a socket as the page's, waiting on events (never polling, which would take the server's CPU). */
class Student {
  private waiters: { pred: (m: Record<string, unknown>) => boolean; ok: (m: Record<string, unknown>) => void }[] = [];
  private echo: { marker: string; ok: () => void } | null = null;
  private screen = '';

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d, binary) => {
      if (binary) {
        const b = d as Buffer;
        if (b[0] !== 0) return;
        this.screen = (this.screen + b.subarray(1).toString('latin1')).slice(-256);
        if (this.echo && this.screen.includes(this.echo.marker)) {
          const e = this.echo;
          this.echo = null;
          e.ok();
        }
        return;
      }
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      const i = this.waiters.findIndex((w) => w.pred(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.ok(m);
    });
  }

  static join(lab: Served): Promise<Student> {
    const ws = new WebSocket(`${lab.base.replace('http', 'ws')}/ws`, { headers: { origin: lab.base, cookie: lab.cookie } });
    return new Promise((ok, fail) => {
      ws.once('open', () => ok(new Student(ws)));
      ws.once('error', fail);
    });
  }

  next(pred: (m: Record<string, unknown>) => boolean, ms = 60_000): Promise<Record<string, unknown>> {
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('no answer in time')), ms);
      this.waiters.push({ pred, ok: (m) => (clearTimeout(timer), ok(m)) });
    });
  }

  send(m: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(m));
  }

  /** Type a line and wait until its marker comes back in the terminal; ms from the last key to the echo. */
  async typeAndSee(marker: string): Promise<number> {
    const seen = new Promise<void>((ok) => (this.echo = { marker, ok }));
    const t0 = performance.now();
    this.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(marker)]));
    await seen;
    const ms = performance.now() - t0;
    this.ws.send(Buffer.from([0, 0x15])); // ^U: clear the line
    return ms;
  }

  close(): void {
    this.ws.close();
  }
}

interface Room {
  size: number;
  steps: number[];
  echoes: number[];
  failed: number;
  serverMiB: number;
  perStudentMiB: number;
  load: number;
}

async function room(size: number): Promise<Room> {
  const lab = await startServer({ grace: 1, args: ['--max-sessions', String(size), ...(SEATS ? ['--seats'] : [])] });
  const steps: number[] = [];
  const echoes: number[] = [];
  let failed = 0;
  const students: Student[] = [];
  const one = async (i: number) => {
    await sleep(Math.random() * JOIN_WINDOW_MS);
    const s = await Student.join(lab);
    students.push(s);
    s.send({ t: 'hello', v: 1, lesson: 'book', cols: 80, rows: 24 });
    const welcome = await s.next((m) => m.t === 'welcome');
    for (const step of (welcome.lesson as { steps: { id: string }[] }).steps) {
      await think();
      const t0 = performance.now();
      s.send({ t: 'run', stepId: step.id });
      const r = await s.next((m) => m.t === 'result' && (m.result as { stepId: string }).stepId === step.id);
      steps.push(performance.now() - t0);
      if (!(r.result as { ok: boolean }).ok) failed++;
    }
    for (let k = 0; k < ECHOES; k++) {
      await think();
      echoes.push(await s.typeAndSee(`s${i}k${k}x`));
    }
  };
  await Promise.all(Array.from({ length: size }, (_, i) => one(i)));
  // Everyone has a container and a shell: what the room costs the machine.
  const result: Room = {
    size,
    steps,
    echoes,
    failed,
    serverMiB: lab.rssBytes() / 2 ** 20,
    perStudentMiB: containersPss() / size / 2 ** 20,
    load: loadavg()[0]!,
  };
  for (const s of students) s.close();
  await stopServer(lab.proc);
  return result;
}

const rooms: Room[] = [];
for (const size of ROOMS) {
  rooms.push(await room(size));
  await sleep(5000); // let the machine settle between rooms
}
console.log(
  `room${SEATS ? ' (every student in a seat)' : ''}: ${ROOMS.join(', ')} students joining within ${JOIN_WINDOW_MS / 1000} s, the book with ${THINK_MS[0] / 1000}–${THINK_MS[1] / 1000} s between steps, then ${ECHOES} keystroke echoes each; ${new Date().toISOString()}\n`,
);
console.log(
  table(
    ['students', 'steps timed', 'step p50 ms', 'step p99 ms', 'echo p50 ms', 'echo p99 ms', 'failed steps', 'server RSS MiB', 'MiB per student (PSS)', 'load (1 min)'],
    rooms.map((r) => {
      const s = stats(r.steps);
      const e = stats(r.echoes);
      return [String(r.size), String(r.steps.length), f(s.median), f(s.p99), f(e.median), f(e.p99), String(r.failed), f(r.serverMiB, 0), f(r.perStudentMiB, 1), f(r.load)];
    }),
  ),
);
const fits = rooms.filter((r) => stats(r.steps).p99 <= STEP_P99_GOAL_MS).map((r) => r.size);
console.log(`\nlargest room with step p99 ≤ ${STEP_P99_GOAL_MS} ms: ${fits.length ? Math.max(...fits) : 'none of those tried'}`);
