// `stepbox`: the lab's command line. Each subcommand lives in its own file.
import { Command } from 'commander';
import { cleanup } from './cleanup.ts';
import { doctor } from './doctor.ts';
import { lint } from './lint.ts';
import { play } from './play.ts';

const program = new Command('stepbox')
  .description('A lab that builds a Linux container one real syscall at a time (runs as root).')
  .option('--cgroup-parent <path>', 'put session cgroups under this path in every hierarchy (default: <own cgroup>/stepbox)')
  .option('--image <name>', 'root filesystem image: busybox (default) or debian', 'busybox');

program
  .command('doctor')
  .description('check that this machine can run the lab, with a fix for each problem')
  .action(async () => process.exit(await doctor(program.opts())));

program
  .command('play <lesson>')
  .description("run a lesson's steps in order, as a student would, and print each result")
  .option('--json', 'one JSON object per step')
  .option('--exec <cmd>', "after the last step, type CMD into the container's shell and print its output")
  .action(async (lesson: string, o: { json?: boolean; exec?: string }) => process.exit(await play(lesson, { ...program.opts(), ...o })));

program
  .command('cleanup')
  .description('remove every container, cgroup, mount and directory the lab left behind')
  .option('--all', 'also reap sessions of a server that is still running')
  .action(async (o: { all?: boolean }) => process.exit(await cleanup({ ...program.opts(), ...o })));

program
  .command('lessons')
  .description('work with lesson files')
  .command('lint')
  .description('check every lesson against the lesson format')
  .action(() => process.exit(lint()));

await program.parseAsync();
