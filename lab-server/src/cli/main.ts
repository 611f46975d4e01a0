// `stepbox`: the lab's command line. Each subcommand lives in its own file.
import { Command, InvalidArgumentError } from 'commander';
import { cleanup } from './cleanup.ts';
import { doctor } from './doctor.ts';
import { lint } from './lint.ts';
import { play } from './play.ts';
import { serve } from './serve.ts';
import { serveUnit, workshopUnit } from './systemd-unit.ts';
import { addSeatOptions } from './seat-options.ts';

/** A number in [min, max] (whole unless `fraction`), or commander's own "error: option … argument …" message. */
const number = (min: number, max: number, fraction = false) => (v: string) => {
  if (!(fraction ? /^\d+(\.\d+)?$/ : /^\d+$/).test(v) || Number(v) < min || Number(v) > max) {
    throw new InvalidArgumentError(`expected a${fraction ? '' : ' whole'} number from ${min} to ${max}.`);
  }
  return v;
};

const program = new Command('stepbox')
  .description('A lab that builds a Linux container one real syscall at a time (runs as root).')
  .option('--cgroup-parent <path>', 'put session cgroups under this path in every hierarchy (default: <own cgroup>/stepbox)')
  .option('--image <name>', 'root filesystem image: busybox (default) or debian', 'busybox');

program
  .command('doctor')
  .description('check that this machine can run the lab, with a fix for each problem')
  .action(async () => process.exit(await doctor(program.opts())));

addSeatOptions(program
  .command('play <lesson>')
  .description("run a lesson's steps in order, as a student would, and print each result")
  .option('--json', 'one JSON object per step')
  .option('--exec <cmd>', "after the last step, type CMD into the container's shell and print its output")
  .option('--dir <path>', 'the folder that holds the lesson (default: lessons/ of this checkout)')
  .option('--export <dir>', 'after the last step, write what the lesson built to DIR: an OCI bundle for runc or crun, and run.sh')
  .option('--cgroups-path <path>', "the bundle's linux.cgroupsPath (default: stepbox-<lesson> under this process's own group)"), number)
  .action(async (lesson: string, o: { json?: boolean; exec?: string; dir?: string; export?: string; cgroupsPath?: string }) => process.exit(await play(lesson, { ...program.opts(), ...o })));

addSeatOptions(program
  .command('serve')
  .description('serve the lab page on http://127.0.0.1:7878 (prints the address with its token)')
  .option('--host <address>', 'address to listen on; anything but loopback prints a warning', '127.0.0.1')
  .option('--port <n>', 'port (0 picks a free one)', number(0, 65535), '7878')
  .option('--allow-host <name>', 'also accept this Host header (repeatable), e.g. a workshop machine name', (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option('--grace <seconds>', 'how long a closed tab keeps its container for a reload', number(0, 86400, true), '30')
  .option('--max-sessions <n>', 'sessions at once (default: sized to this machine, 4 per CPU and one per 256 MiB, at most 64)', number(1, 1000))
  .option('--print-systemd-unit', 'print a systemd unit that serves the lab with these options, and exit'), number)
  .action(async (o) => {
    if (o.printSystemdUnit) process.stdout.write(serveUnit({ ...program.opts(), ...o }));
    else await serve({ ...program.opts(), ...o });
  });

addSeatOptions(program
  .command('workshop')
  .description('serve a room: students join by one link, each in a seat of their own; the instructor watches on /dashboard (docs/workshop.md)')
  .option('--title <text>', 'what the dashboard calls the workshop', 'stepbox workshop')
  .option('--host <address>', 'address to listen on', '0.0.0.0')
  .option('--port <n>', 'port (0 picks a free one)', number(0, 65535), '8443')
  .option('--public-host <name>', 'the name or address students reach this machine by, for the links (default: its first outward IPv4 address)')
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM); default: a self-signed one made for this run')
  .option('--tls-key <file>', 'the key of --tls-cert (PEM)')
  .option('--no-tls', 'plain HTTP: on loopback only (behind a TLS proxy on this machine)')
  .option('--grace <seconds>', "how long a student's seat waits for them after their last tab closed", number(0, 86400, true), '3600')
  .option('--seat-expire <minutes>', "put away a seat nobody has used for this long, even with its tab open; the student's progress is kept and rebuilt on their return; 0: never", number(0, 10080, true), '60')
  .option('--pool <n>', 'helpers started before anyone joins', number(0, 256), '8')
  .option('--max-sessions <n>', 'seats at once (default: sized to this machine, 4 per CPU and one per 256 MiB, at most 64)', number(1, 1000))
  .option('--print-systemd-unit', 'print a systemd unit that runs the workshop with these options, and exit'), number)
  .action(async (o) => {
    if (o.printSystemdUnit) return void process.stdout.write(workshopUnit({ ...program.opts(), ...o }));
    // Loaded only here: the TLS and QR code modules are the workshop's alone.
    const { workshop } = await import('./workshop.ts');
    const code = await workshop({ ...program.opts(), ...o });
    if (code) process.exit(code);
  });

program
  .command('cleanup')
  .description('remove every container, cgroup, mount and directory the lab left behind')
  .option('--all', 'also reap sessions of a server that is still running')
  .action(async (o: { all?: boolean }) => process.exit(await cleanup({ ...program.opts(), ...o })));

program
  .command('lessons')
  .description('work with lesson files')
  .command('lint [lessons...]')
  .description('check lessons (all of them, or those named) for format, translation and reference errors')
  .option('--dir <path>', 'the folder that holds the lessons (default: lessons/ of this checkout)')
  .action((only: string[], o: { dir?: string }) => process.exit(lint(only, o)));

await program.parseAsync();
