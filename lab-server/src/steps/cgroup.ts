// Block two of the chapter: make a group in each hierarchy, optionally set a limit, and
// `echo $pid > .../tasks`. Three kinds, because each is a separate thing the kernel does.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Controller } from '../protocol/kernel.ts';
import type { Limit } from '../protocol/steps.ts';
import type { Call, Refusal, Said } from '../protocol/results.ts';
import { knobsFor } from '../cgroup/knobs.ts';
import { V2_IMPLICIT } from '../cgroup/detect.ts';
import { defaultDisk, IMAGES_DIR } from '../rootfs/images.ts';
import { need, refusal } from './state.ts';
import type { StepCtx, StepModule } from './step.ts';

/** On cgroup v2 the devices list is an eBPF program: said where it happens, with its listing in the calls. */
const DEVICES_ON_V2: Said = {
  en: 'cgroup v2 has no devices.allow or devices.deny. The lab does what runc and systemd do: it replays the rules as v1 would take them, compiles the result into an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE, loads it with bpf(BPF_PROG_LOAD) and attaches it to the group with bpf(BPF_PROG_ATTACH). The kernel runs it on every device open() and mknod() by a process in the group. Its instructions are listed under the load call, each block beside the rule it comes from.',
  zh: 'cgroup v2 没有 devices.allow 和 devices.deny。本实验的做法和 runc、systemd 一样：先按 v1 的方式重放这些规则，再把结果编译成一个类型为 BPF_PROG_TYPE_CGROUP_DEVICE 的 eBPF 程序，用 bpf(BPF_PROG_LOAD) 加载，再用 bpf(BPF_PROG_ATTACH) 挂到组上。组里的进程每次对设备执行 open() 和 mknod()，内核都会运行它。加载调用下面列出了它的指令，每一段都和它所来自的规则并排。',
};

function devicesOnV2(c: Controller, ctx: StepCtx): boolean {
  return c === 'devices' && ctx.cgroups.home(c)?.hierarchy.version === 2;
}

function unavailable(c: Controller, ctx: StepCtx): Refusal | null {
  if (ctx.cgroups.home(c)) return null;
  const why = ctx.cgroups.host.missing.get(c) ?? `no ${c} hierarchy`;
  return refusal('no-controller', `The ${c} controller cannot be used here: ${why}.`, `这里无法使用 ${c} 控制器：${why}。`);
}

function notCreated(c: Controller, ctx: StepCtx): Refusal | null {
  if (ctx.state.cgroups[c]) return null;
  return refusal('no-group', `There is no ${c} group for this container yet: create it first (mkdir in the ${c} hierarchy).`, `这个容器还没有 ${c} 控制组：请先创建（在 ${c} 层级下 mkdir）。`);
}

function applyLimit(limit: Limit, ctx: StepCtx): Call[] {
  const home = ctx.cgroups.home(limit.controller);
  if (!home) return [];
  if (limit.controller === 'devices' && home.hierarchy.version === 2) return ctx.cgroups.attachDevices(ctx.session, limit.deny, limit.allow);
  // Without a device named, a throttle goes on the lab's disk when the session has one.
  return knobsFor(limit, home.hierarchy.version, () => ctx.state.disk?.dev ?? defaultDisk(IMAGES_DIR)).map((k) => ctx.cgroups.write(limit.controller, ctx.session, k.file, k.value));
}

const FREEZE_WAIT_MS = 2000;

/**
 * Freezing is not instant: the kernel asks every task to stop, and until the last one has,
 * it reports FREEZING (v1; reading freezer.state is also what moves it on to FROZEN) or
 * `frozen 0` in cgroup.events (v2). Wait for its word, as runc does, so the step's result
 * shows the group frozen rather than half-way there.
 */
async function settleFreeze(limit: Limit, calls: Call[], ctx: StepCtx): Promise<Said[]> {
  const home = ctx.cgroups.home('freezer');
  if (limit.controller !== 'freezer' || limit.state !== 'FROZEN' || !home || calls.some((c) => c.ret < 0)) return [];
  const frozen = () =>
    home.hierarchy.version === 1 ? ctx.cgroups.read('freezer', ctx.session, 'freezer.state') === 'FROZEN' : /^frozen 1$/m.test(ctx.cgroups.read('freezer', ctx.session, 'cgroup.events'));
  for (const t0 = Date.now(); Date.now() - t0 < FREEZE_WAIT_MS; await sleep(5)) if (frozen()) return [];
  return [
    {
      en: `After ${FREEZE_WAIT_MS} ms the kernel still reports the group as freezing: some task has not stopped yet, for example one waiting inside the kernel where it cannot be paused.`,
      zh: `${FREEZE_WAIT_MS} 毫秒之后，内核仍报告这个组正在冻结：还有任务没有停下，比如某个正在内核里等待、无法被暂停的任务。`,
    },
  ];
}

export const cgroupCreate: StepModule<'cgroup-create'> = {
  kind: 'cgroup-create',
  refuse({ controllers, limits }, ctx) {
    for (const c of controllers) {
      const r = unavailable(c, ctx);
      if (r) return r;
    }
    const strangers = controllers.some((c) => ctx.cgroups.home(c)?.hierarchy.version === 2 && !V2_IMPLICIT.includes(c)) ? ctx.cgroups.strangers() : [];
    if (strangers.length) {
      const who = strangers.join(', ');
      return refusal(
        'cgroup-not-delegable',
        `On cgroup v2 the lab's own group must hand controllers down to the container's, and a group may do that only while no process is in it. The lab moves itself and what it started into a leaf of its own, but ${who} ${strangers.length === 1 ? 'is' : 'are'} there too, and not the lab's to move. Start the lab as the only process of its group (for example as a systemd unit with Delegate=yes), or give it an empty group with --cgroup-parent.`,
        `在 cgroup v2 上，本实验自己所在的组要把控制器下放给容器的组，而一个组只有在自身不含进程时才能这样做。本实验会把自己和自己启动的进程移进一个单独的叶子组，但 ${who} 也在这个组里，它们不归本实验移动。请让本实验成为所在组里唯一的进程（例如作为带 Delegate=yes 的 systemd 单元运行），或者用 --cgroup-parent 给它一个空组。`,
      );
    }
    const stray = limits.find((l) => !controllers.includes(l.controller));
    if (stray) return refusal('limit-without-group', `A ${stray.controller} limit needs a ${stray.controller} group: add ${stray.controller} to the groups to create.`, `${stray.controller} 限制需要 ${stray.controller} 控制组：请把 ${stray.controller} 加入要创建的控制组。`);
    return null;
  },
  async run({ controllers, limits }, ctx) {
    const calls: Call[] = [];
    const notes: Said[] = limits.some((l) => devicesOnV2(l.controller, ctx)) ? [DEVICES_ON_V2] : [];
    for (const c of controllers) {
      const made = ctx.cgroups.create(c, ctx.session);
      calls.push(...made);
      if (made.every((m) => m.ret >= 0)) ctx.state.cgroups[c] ??= { joined: false };
    }
    for (const l of limits) {
      if (!ctx.state.cgroups[l.controller]) continue;
      const written = applyLimit(l, ctx);
      calls.push(...written);
      notes.push(...(await settleFreeze(l, written, ctx)));
    }
    return { calls, notes };
  },
};

export const cgroupLimit: StepModule<'cgroup-limit'> = {
  kind: 'cgroup-limit',
  refuse({ limit }, ctx) {
    return unavailable(limit.controller, ctx) ?? notCreated(limit.controller, ctx);
  },
  async run({ limit }, ctx) {
    const calls = applyLimit(limit, ctx);
    return { calls, notes: [...(devicesOnV2(limit.controller, ctx) ? [DEVICES_ON_V2] : []), ...(await settleFreeze(limit, calls, ctx))] };
  },
};

export const cgroupJoin: StepModule<'cgroup-join'> = {
  kind: 'cgroup-join',
  refuse({ controller }, ctx) {
    return unavailable(controller, ctx) ?? need.process(ctx.state) ?? notCreated(controller, ctx);
  },
  async run({ controller }, ctx) {
    const home = ctx.cgroups.home(controller)!;
    const notes: Said[] = [];
    // v2 has one tree: the first join already moved the process into every controller.
    const sameTree = Object.entries(ctx.state.cgroups).some(([c, g]) => g?.joined && ctx.cgroups.home(c as Controller)?.hierarchy === home.hierarchy);
    if (home.hierarchy.version === 2 && sameTree) {
      notes.push({ en: 'On cgroup v2 there is one tree: the process is already in this group for every controller, and writing cgroup.procs again changes nothing.', zh: '在 cgroup v2 中只有一棵树：进程已经在这个组里，对所有控制器都生效，再写一次 cgroup.procs 不会有变化。' });
    }
    const call = ctx.cgroups.join(controller, ctx.session, ctx.state.pid!);
    if (call.ret >= 0) ctx.state.cgroups[controller] = { joined: true };
    if (call.errno === 'ENOSPC' && controller === 'cpuset') {
      notes.push({ en: 'A cpuset group with no CPUs or memory nodes cannot hold tasks: set cpuset.cpus and cpuset.mems first.', zh: '没有 CPU 或内存节点的 cpuset 控制组不能容纳任务：请先设置 cpuset.cpus 和 cpuset.mems。' });
    }
    return { calls: [call], notes };
  },
};
