// `stepbox workshop`: one lab for a room. Every student joins by one link, gets a seat of
// their own (docs/seats.md) and keeps it across reloads; the instructor holds the token and
// watches the room on /dashboard. Off loopback it speaks only HTTPS.
import { networkInterfaces } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Lab } from '../session/lab.ts';
import { LabServer } from '../server/app.ts';
import { certificateFrom, selfSigned, type Certificate } from '../workshop/tls.ts';
import { qrTerminal } from '../workshop/qr.ts';
import { Workshop } from '../workshop/workshop.ts';
import { reapOnExit } from './reap-on-exit.ts';
import { seatsFrom, type SeatCliOptions } from './seat-options.ts';

export interface WorkshopCliOptions extends SeatCliOptions {
  host: string;
  port: string;
  publicHost?: string;
  title: string;
  tlsCert?: string;
  tlsKey?: string;
  tls: boolean;
  grace: string;
  seatExpire: string;
  pool: string;
  maxSessions?: string;
  image?: string;
  cgroupParent?: string;
}

const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

/** The address students most likely reach this machine by: its first outward IPv4 address. */
function outwardAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/** What the options ask of TLS, or a sentence saying why they cannot be served. */
export function tlsPlan(o: Pick<WorkshopCliOptions, 'host' | 'tls' | 'tlsCert' | 'tlsKey'>): 'none' | 'given' | 'self-signed' | { error: string } {
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) return { error: '--tls-cert and --tls-key go together' };
  if (!o.tls) {
    if (o.tlsCert) return { error: '--no-tls and --tls-cert ask for opposite things' };
    // A seat is still a shell: over plain HTTP on a network anyone on the way could take it.
    if (!LOOPBACK.includes(o.host)) return { error: `plain HTTP is served on loopback only; on ${o.host} the workshop needs TLS (leave out --no-tls, or give --tls-cert and --tls-key)` };
    return 'none';
  }
  return o.tlsCert ? 'given' : 'self-signed';
}

export async function workshop(o: WorkshopCliOptions): Promise<number> {
  setFlagsFromString('--semi-space-growth-factor=1'); // as serve.ts explains
  const plan = tlsPlan(o);
  if (typeof plan === 'object') {
    console.error(`stepbox workshop: ${plan.error}`);
    return 2;
  }
  const wildcard = o.host === '0.0.0.0' || o.host === '::';
  const publicHost = o.publicHost ?? (wildcard ? (outwardAddress() ?? '127.0.0.1') : o.host);
  let cert: Certificate | null = null;
  try {
    if (plan === 'given') cert = certificateFrom(o.tlsCert!, o.tlsKey!);
    if (plan === 'self-signed') cert = selfSigned([publicHost, '127.0.0.1', 'localhost']);
  } catch (e) {
    console.error(`stepbox workshop: ${(e as Error).message}`);
    return 2;
  }

  const seats = seatsFrom({ ...o, seats: true })!;
  const w = new Workshop(o.title, cert?.fingerprint ?? null);
  // Helpers are started before class: the first minute's joins do not wait for them.
  const lab = await Lab.start({ image: o.image, cgroupParent: o.cgroupParent, warm: Number(o.pool), seats });
  const server = new LabServer(lab, {
    host: o.host,
    port: Number(o.port),
    allowHosts: [publicHost],
    publicHost: publicHost.includes(':') ? `[${publicHost}]` : publicHost,
    graceSeconds: Number(o.grace),
    seatExpireMs: Number(o.seatExpire) * 60_000,
    maxSessions: o.maxSessions === undefined ? undefined : Number(o.maxSessions),
    tls: cert ?? undefined,
    workshop: w,
  });
  reapOnExit(async () => {
    await server.close();
    await lab.shutdown();
  });
  const instructor = await server.listen();
  const { joinUrl } = await w.opened(server.hub, server.origin);
  const dashboard = instructor.replace('/?token=', '/dashboard?token=');
  console.log(`stepbox workshop "${o.title}" is ready: ${server.hub.maxSessions} seats (each ${seats.limits.memoryBytes / 2 ** 20} MiB, ${seats.limits.pids} processes, ${seats.limits.cpuQuotaUs / 100_000} CPU)`);
  const minutes = (ms: number) => (ms > 0 ? `${+(ms / 60_000).toFixed(2)} min` : 'never');
  console.log(`  A seat nobody uses is frozen after ${minutes(seats.idleMs)} and put away after ${minutes(Number(o.seatExpire) * 60_000)}; a closed tab's seat waits ${o.grace} s.`);
  console.log(`  Instructor, keep this one to yourself / 讲师专用，请勿外传:\n    ${dashboard}`);
  console.log(`  Students join here / 学生从这里加入:\n    ${joinUrl}`);
  if (cert) {
    console.log(`  Certificate${cert.selfSigned ? ' (self-signed: browsers warn; students check this fingerprint before going on / 自签名证书：浏览器会警告，学生请先核对指纹)' : ''}:`);
    console.log(`    SHA-256 ${cert.fingerprint}`);
  }
  console.log(await qrTerminal(joinUrl));
  console.log('  Ctrl+C ends the workshop and removes every seat. / 按 Ctrl+C 结束工作坊并清除所有座位。');
  return 0;
}
