// Block two of the chapter: make a group in each hierarchy, optionally set a limit, and
// `echo $pid > .../tasks`. Three kinds, because each is a separate thing the kernel does.
import type { Controller } from '../protocol/kernel.ts';
import type { Limit } from '../protocol/steps.ts';
import type { Call, Refusal } from '../protocol/results.ts';
import { knobsFor } from '../cgroup/knobs.ts';
import { diskOf, IMAGES_DIR } from '../rootfs/images.ts';
import { need, refusal } from '../session/state.ts';
import type { StepCtx, StepModule } from './step.ts';

function unavailable(c: Controller, ctx: StepCtx): Refusal | null {
  if (ctx.cgroups.home(c)) return null;
  const why = ctx.cgroups.host.missing.get(c) ?? `no ${c} hierarchy`;
  if (c === 'devices') {
    return refusal('devices-ebpf', `cgroup v2 has no devices.allow or devices.deny: ${why}. The lab does not load eBPF programs, so this controller is shown but not set.`, `cgroup v2 没有 devices.allow 或 devices.deny 文件：设备访问由挂在 cgroup 上的 eBPF 程序控制。本实验不加载 eBPF 程序，因此这个控制器只作说明，不做设置。`);
  }
  return refusal('no-controller', `The ${c} controller cannot be used here: ${why}.`, `这里无法使用 ${c} 控制器：${why}。`);
}

function notCreated(c: Controller, ctx: StepCtx): Refusal | null {
  if (ctx.state.cgroups[c]) return null;
  return refusal('no-group', `There is no ${c} group for this container yet: create it first (mkdir in the ${c} hierarchy).`, `这个容器还没有 ${c} 控制组：请先创建（在 ${c} 层级下 mkdir）。`);
}

function applyLimit(limit: Limit, ctx: StepCtx): Call[] {
  const home = ctx.cgroups.home(limit.controller)!;
  return knobsFor(limit, home.hierarchy.version, () => diskOf(IMAGES_DIR)).map((k) => ctx.cgroups.write(limit.controller, ctx.session, k.file, k.value));
}

export const cgroupCreate: StepModule<'cgroup-create'> = {
  kind: 'cgroup-create',
  refuse({ controllers, limits }, ctx) {
    for (const c of controllers) {
      const r = unavailable(c, ctx);
      if (r) return r;
    }
    const stray = limits.find((l) => !controllers.includes(l.controller));
    if (stray) return refusal('limit-without-group', `A ${stray.controller} limit needs a ${stray.controller} group: add ${stray.controller} to the groups to create.`, `${stray.controller} 限制需要 ${stray.controller} 控制组：请把 ${stray.controller} 加入要创建的控制组。`);
    return null;
  },
  async run({ controllers, limits }, ctx) {
    const calls: Call[] = [];
    for (const c of controllers) {
      const made = ctx.cgroups.create(c, ctx.session);
      calls.push(...made);
      if (made.every((m) => m.ret >= 0)) ctx.state.cgroups[c] ??= { joined: false };
    }
    for (const l of limits) if (ctx.state.cgroups[l.controller]) calls.push(...applyLimit(l, ctx));
    return { calls };
  },
};

export const cgroupLimit: StepModule<'cgroup-limit'> = {
  kind: 'cgroup-limit',
  refuse({ limit }, ctx) {
    return unavailable(limit.controller, ctx) ?? notCreated(limit.controller, ctx);
  },
  async run({ limit }, ctx) {
    return { calls: applyLimit(limit, ctx) };
  },
};

export const cgroupJoin: StepModule<'cgroup-join'> = {
  kind: 'cgroup-join',
  refuse({ controller }, ctx) {
    return unavailable(controller, ctx) ?? need.process(ctx.state) ?? notCreated(controller, ctx);
  },
  async run({ controller }, ctx) {
    const call = ctx.cgroups.join(controller, ctx.session, ctx.state.pid!);
    if (call.ret >= 0) ctx.state.cgroups[controller] = { joined: true };
    const notes = [];
    if (call.errno === 'ENOSPC' && controller === 'cpuset') {
      notes.push({ en: 'A cpuset group with no CPUs or memory nodes cannot hold tasks: set cpuset.cpus and cpuset.mems first.', zh: '没有 CPU 或内存节点的 cpuset 控制组不能容纳任务：请先设置 cpuset.cpus 和 cpuset.mems。' });
    }
    return { calls: [call], notes };
  },
};
