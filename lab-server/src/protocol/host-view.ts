// What the Host tab shows: the host's side of what the lessons talk about, read by the
// server from a fixed list of kernel files. Shared by the server and the page; no Node or
// DOM types here.

/** A network device and its addresses, as one network namespace has them. */
export interface NetDevice {
  name: string;
  /** "10.200.0.5/30", "fe80::1/64": IPv4 from fib_trie and route, IPv6 from if_inet6. */
  addresses: string[];
}

/** A device with its counters from /proc/<pid>/net/dev. */
export interface NetDeviceCounted extends NetDevice {
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
}

/** One process of the container as the host sees it. */
export interface HostProcess {
  /** Its pid in the host's pid namespace. */
  pid: number;
  /** Its pid in the innermost pid namespace it is in (the last NSpid field). */
  nspid: number;
  /** Its real uid on the host (the first Uid field of /proc/<pid>/status). */
  uid: number;
  /** The State letter: R, S, D, T, Z… */
  state: string;
  /** Cpus_allowed_list: where the scheduler may run it. */
  cpus: string;
  command: string;
}

/** A file of one of the session's own cgroups, read from the host's cgroup tree. */
export interface GroupFile {
  controller: string;
  /** Its path on the host, under /sys/fs/cgroup. */
  path: string;
  text: string;
}

/** A clock pair: the host's and the container's view of it, in seconds. */
export interface Uptime {
  host: number;
  /** CLOCK_BOOTTIME as the container reads it: the host's plus its time namespace's offset. */
  container: number | null;
}

export interface HostView {
  /** When it was read, in milliseconds since the epoch (the server's clock). */
  at: number;
  /** The host's pid of the container's first process; null before clone or after it ended. */
  pid: number | null;
  hostname: { host: string; container: string | null };
  /** The CPUs the host has online ("0-1"): what nproc counts. */
  cpus: string;
  /** The memory (NUMA) nodes the host has online ("0"), from /sys/devices/system/node/online. */
  nodes: string;
  /** The huge page sizes the kernel offers, as /sys/kernel/mm/hugepages names them ("hugepages-2048kB"). */
  hugepageSizes: string[];
  uptime: Uptime;
  net: { host: NetDeviceCounted[]; container: NetDeviceCounted[] | null; shared: boolean };
  groups: GroupFile[];
  processes: HostProcess[];
  /** Lines of the host's mount table (mountinfo) that name the session: its rootfs, its directory, its groups. */
  mounts: string[];
  /** Whether any list above was cut to its bound. */
  truncated: boolean;
}

/** How much of each the view carries at most: what a page can receive is bounded. */
export const HOST_VIEW_LIMITS = { devices: 32, addresses: 8, processes: 64, groups: 24, groupFileBytes: 2048, mounts: 40, mountLineChars: 400, command: 160 } as const;
