// `stepbox serve --print-systemd-unit`: the lab as a service of its own, for a machine kept
// for it (a class's VM, a self-study VM that should start the lab at boot).
import { fileURLToPath } from 'node:url';
import type { ServeCliOptions } from './serve.ts';

/** Where this checkout's CLI is: the unit runs exactly the code it was printed from. */
const CLI = fileURLToPath(new URL('../../bin/stepbox.mjs', import.meta.url));

/** systemd quotes arguments with spaces or specials in double quotes, backslash-escaped. */
const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`);

export function systemdUnit(o: ServeCliOptions): string {
  const args = [process.execPath, CLI, ...(o.image && o.image !== 'busybox' ? ['--image', o.image] : []), ...(o.cgroupParent ? ['--cgroup-parent', o.cgroupParent] : [])];
  args.push('serve', '--host', o.host, '--port', o.port, '--grace', o.grace, ...o.allowHost.flatMap((h) => ['--allow-host', h]), ...(o.maxSessions ? ['--max-sessions', o.maxSessions] : []));
  if (o.seats) {
    const given: [string, string | undefined][] = [['--seat-memory', o.seatMemory], ['--seat-pids', o.seatPids], ['--seat-cpu', o.seatCpu], ['--seat-scratch', o.seatScratch], ['--seat-idle', o.seatIdle]];
    args.push('--seats', ...given.flatMap(([flag, v]) => (v === undefined ? [] : [flag, v])));
  }
  return `# stepbox as a systemd service. Install:
#   node ${CLI} serve --print-systemd-unit > /etc/systemd/system/stepbox.service
#   systemctl daemon-reload && systemctl enable --now stepbox
# Its address, token included, is in the journal: journalctl -u stepbox | grep http
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
