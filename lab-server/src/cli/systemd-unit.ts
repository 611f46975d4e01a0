// `stepbox serve --print-systemd-unit` and `stepbox workshop --print-systemd-unit`: the lab
// as a service of its own, for a machine kept for it (a class's VM, a self-study VM that
// should start the lab at boot, a workshop's server).
import { fileURLToPath } from 'node:url';
import type { SeatCliOptions } from './seat-options.ts';
import type { ServeCliOptions } from './serve.ts';
import type { WorkshopCliOptions } from './workshop.ts';

/** Where this checkout's CLI is: the unit runs exactly the code it was printed from. */
const CLI = fileURLToPath(new URL('../../bin/stepbox.mjs', import.meta.url));

/** systemd quotes arguments with spaces or specials in double quotes, backslash-escaped. */
const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`);

const globals = (o: { image?: string; cgroupParent?: string }) => [...(o.image && o.image !== 'busybox' ? ['--image', o.image] : []), ...(o.cgroupParent ? ['--cgroup-parent', o.cgroupParent] : [])];

/** The seat limits given on the command line, as flags again. */
function seatFlags(o: SeatCliOptions): string[] {
  const given: [string, string | undefined][] = [['--seat-memory', o.seatMemory], ['--seat-pids', o.seatPids], ['--seat-cpu', o.seatCpu], ['--seat-scratch', o.seatScratch], ['--seat-idle', o.seatIdle]];
  return given.flatMap(([flag, v]) => (v === undefined ? [] : [flag, v]));
}

export function serveUnit(o: ServeCliOptions): string {
  const args = [...globals(o), 'serve', '--host', o.host, '--port', o.port, '--grace', o.grace, ...o.allowHost.flatMap((h) => ['--allow-host', h]), ...(o.maxSessions ? ['--max-sessions', o.maxSessions] : [])];
  if (o.seats) args.push('--seats', ...seatFlags(o));
  return systemdUnit('serve', args, 'Its address, token included, is in the journal: journalctl -u stepbox | grep http');
}

export function workshopUnit(o: WorkshopCliOptions): string {
  const args = [...globals(o), 'workshop', '--title', o.title, '--host', o.host, '--port', o.port, '--grace', o.grace, '--seat-expire', o.seatExpire, '--pool', o.pool];
  if (o.publicHost) args.push('--public-host', o.publicHost);
  if (o.tlsCert && o.tlsKey) args.push('--tls-cert', o.tlsCert, '--tls-key', o.tlsKey);
  if (!o.tls) args.push('--no-tls');
  if (o.maxSessions) args.push('--max-sessions', o.maxSessions);
  args.push(...seatFlags(o));
  return systemdUnit('workshop', args, 'Its links, the certificate fingerprint and the QR code are in the journal: journalctl -u stepbox');
}

function systemdUnit(command: 'serve' | 'workshop', cliArgs: string[], where: string): string {
  const args = [process.execPath, CLI, ...cliArgs];
  return `# stepbox as a systemd service. Install:
#   node ${CLI} ${command} --print-systemd-unit > /etc/systemd/system/stepbox.service
#   systemctl daemon-reload && systemctl enable --now stepbox
# ${where}
[Unit]
Description=stepbox: build a Linux container one real syscall at a time
After=network.target

[Service]
ExecStart=${args.map(quote).join(' ')}
# The lab makes its containers' cgroups below its own: systemd hands the unit's subtree
# over, and the lab moves itself into a leaf of it before enabling controllers there.
Delegate=yes
# SIGTERM to the server alone, which reaps every container before it exits; whatever is
# left after TimeoutStopSec gets SIGKILL.
KillMode=mixed
TimeoutStopSec=30
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;
}
