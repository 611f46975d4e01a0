// Where each step of the lab lives in an OCI runtime bundle's config.json (runtime-spec 1.0:
// config.md, config-linux.md). The page shows it beside each step; export/oci.ts writes it.
import type { StepKind } from './steps.ts';

export interface OciField {
  /** The config.json field(s), or what stands in for the step when no field does. */
  field: string;
  /** When the field alone does not say it: how a runtime does the step. */
  how?: { en: string; zh: string };
}

export const OCI_FIELD: Record<StepKind, OciField> = {
  clone: { field: 'linux.namespaces', how: { en: 'one entry per namespace: {"type": "pid"}, {"type": "network"}, …', zh: '每个命名空间一项：{"type": "pid"}、{"type": "network"}……' } },
  idmap: { field: 'linux.uidMappings, linux.gidMappings' },
  'cgroup-create': { field: 'linux.cgroupsPath, linux.resources' },
  'cgroup-limit': { field: 'linux.resources' },
  'cgroup-join': { field: 'linux.cgroupsPath', how: { en: 'the runtime puts the container into the group itself', zh: '运行时自己把容器放进这个组' } },
  hostname: { field: 'hostname' },
  propagation: { field: 'linux.rootfsPropagation' },
  'bind-root': { field: 'root.path', how: { en: 'the runtime bind-mounts root.path onto itself before pivot_root', zh: '运行时在 pivot_root 之前把 root.path 绑定挂载到它自己上' } },
  'pivot-root': { field: 'root.path' },
  chroot: { field: 'root.path', how: { en: 'runtimes use pivot_root; runc --no-pivot moves the root mount and calls chroot', zh: '运行时用 pivot_root；runc --no-pivot 则移动根挂载再调用 chroot' } },
  mount: { field: 'mounts' },
  'detach-old-root': { field: 'root.path', how: { en: 'part of entering the root: the runtime detaches the old one itself', zh: '属于进入新根的一部分：运行时自己卸载旧根' } },
  unshare: { field: 'linux.namespaces' },
  veth: { field: 'hooks.createRuntime', how: { en: 'no field makes a network: a hook or a CNI plugin adds the veth pair', zh: '没有字段能造网络：由钩子或 CNI 插件添加 veth 网线' } },
  disk: { field: 'linux.resources.blockIO', how: { en: 'the disk itself is the lab\'s; the throttles on it are blockIO fields', zh: '磁盘本身是实验自己的；施加在它上面的限速才是 blockIO 字段' } },
  mask: { field: 'linux.maskedPaths, linux.readonlyPaths' },
  caps: { field: 'process.capabilities' },
  'no-new-privs': { field: 'process.noNewPrivileges' },
  seccomp: { field: 'linux.seccomp' },
  rlimit: { field: 'process.rlimits' },
  exec: { field: 'process.args' },
};
