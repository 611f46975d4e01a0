// The registry of step kinds: one module each.
import type { StepKind } from '../protocol/steps.ts';
import { bindRoot } from './bind-root.ts';
import { cgroupCreate, cgroupJoin, cgroupLimit } from './cgroup.ts';
import { chroot } from './chroot.ts';
import { clone } from './clone.ts';
import { detachOldRoot } from './detach-old-root.ts';
import { exec } from './exec.ts';
import { hostname } from './hostname.ts';
import { idmap } from './idmap.ts';
import { mount } from './mount.ts';
import { pivotRoot } from './pivot-root.ts';
import { propagation } from './propagation.ts';
import type { StepModule } from './step.ts';
import { unshare } from './unshare.ts';
import { veth } from './veth.ts';
import { disk } from './disk.ts';
import { mask } from './mask.ts';
import { caps } from './caps.ts';
import { noNewPrivs } from './no-new-privs.ts';
import { seccomp } from './seccomp.ts';
import { rlimit } from './rlimit.ts';

export const STEPS: { [K in StepKind]: StepModule<K> } = {
  clone,
  idmap,
  'cgroup-create': cgroupCreate,
  'cgroup-limit': cgroupLimit,
  'cgroup-join': cgroupJoin,
  hostname,
  propagation,
  'bind-root': bindRoot,
  'pivot-root': pivotRoot,
  chroot,
  mount,
  'detach-old-root': detachOldRoot,
  unshare,
  veth,
  disk,
  mask,
  caps,
  'no-new-privs': noNewPrivs,
  seccomp,
  rlimit,
  exec,
};
