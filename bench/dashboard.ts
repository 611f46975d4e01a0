// What the instructor's dashboard costs the lab: N seated students, each with the book
// played to its end (a shell in its seat), and the time to build the room's view (the
// engine's record and each seat's cgroup files) and its size as JSON, as /api/workshop
// answers every two seconds per open dashboard.
// Run as root: npm run bench:dashboard  (N=20 students, R=50 readings by default)
import { Lab } from '../lab-server/src/session/lab.ts';
import { DEFAULT_SEAT } from '../lab-server/src/session/seat.ts';
import { Hub } from '../lab-server/src/server/hub.ts';
import { Workshop } from '../lab-server/src/workshop/workshop.ts';
import { f, stats, table } from './stats.ts';

const N = Number(process.env.N ?? 20);
const R = Number(process.env.R ?? 50);

const lab = await Lab.start({ seats: DEFAULT_SEAT, warm: 4 });
const hub = new Hub(lab, { graceSeconds: 60, maxSessions: N });
const room = new Workshop('bench', null);
try {
  await room.opened(hub, 'https://127.0.0.1:8443');
  for (let i = 0; i < N; i++) {
    const student = room.roster.join()!.student;
    student.name = `student ${i}`;
    const entry = await hub.open('book', { cols: 100, rows: 30 });
    for await (const r of entry.play.runRest()) if (!r.ok) throw new Error(`step ${r.stepId} failed`);
    student.entry = entry.id;
  }
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < R; i++) {
    const t0 = performance.now();
    bytes = JSON.stringify(room.view()).length;
    ms.push(performance.now() - t0);
  }
  console.log(`dashboard: ${N} seated students with the book done, ${R} readings of the room; ${new Date().toISOString()}\n`);
  console.log(table(['students', 'view median ms', 'view p99 ms', 'JSON KiB'], [[String(N), f(stats(ms).median), f(stats(ms).p99), f(bytes / 1024)]]));
} finally {
  await hub.closeAll();
  await lab.shutdown();
}
