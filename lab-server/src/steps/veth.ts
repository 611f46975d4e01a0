// A cable between two network namespaces: a veth pair whose host end stays in the lab
// server's namespace and whose other end is made directly in the container's, as eth0.
// Done from outside, like the uid maps: `ip` (iproute2) on the host, and `nsenter` to run
// `ip` in the container's network namespace for its half.
import { deleteLink, hostEndName, ifindex, inNetns, ip, subnetFor } from '../net/links.ts';
import type { Call, Said } from '../protocol/results.ts';
import { has, need, refusal } from './state.ts';
import type { StepModule } from './step.ts';

/** The container's end, as every distribution names its first Ethernet card. */
const PEER = 'eth0';

export const veth: StepModule<'veth'> = {
  kind: 'veth',
  refuse(_p, { state, seat }) {
    const r = need.process(state);
    if (r) return r;
    if (seat) {
      return refusal('seat-no-veth', "In a seat, the cable's host end would belong in the seat's own network namespace, and the lab lays it only on the machine's: it is not done here. This step works when the lab runs on a machine of your own (stepbox serve without --seats).", '在座位（seat）里，网线在“宿主机”一端应当放进座位自己的网络命名空间，而本实验只会把它放在整台机器的网络里：这里不做这一步。在自己的机器上运行本实验（stepbox serve 不带 --seats）时可以完成。');
    }
    if (!has(state, 'CLONE_NEWNET')) {
      return refusal(
        'no-net-ns',
        "This process shares the host's network namespace: the pair's other end would land among the host's own interfaces, next to its real eth0. To give the container a network of its own, create a network namespace first (CLONE_NEWNET).",
        '这个进程与宿主机共用网络命名空间：veth 的另一端会落在宿主机自己的网卡中间，就在它真正的 eth0 旁边。要让容器有自己的网络，请先创建网络命名空间（CLONE_NEWNET）。',
      );
    }
    if (state.veth) return refusal('already-linked', `The container is already connected: ${state.veth.host} on the host, ${PEER} inside.`, `容器已经连上了：宿主机一端是 ${state.veth.host}，容器里是 ${PEER}。`);
    return null;
  },
  async run(_p, { state, session }) {
    const pid = state.pid!;
    const host = hostEndName(session);
    const calls: Call[] = [ip('link', 'add', host, 'type', 'veth', 'peer', 'name', PEER, 'netns', String(pid))];
    if (calls[0]!.ret < 0) return { calls };
    // From here on the pair exists: reap must find it whatever fails next.
    state.veth = { host, hostAddr: null, peerAddr: null };
    const index = ifindex(host);
    const net = index === null ? null : subnetFor(index);
    // Half a connection is worse than none: undo the pair, so the step can be run again.
    const undo = (error?: string) => {
      calls.push(deleteLink(host));
      state.veth = null;
      return { calls, error };
    };
    if (!net) return undo(index === null ? `${host} vanished right after it was made` : 'every /30 of 10.200.0.0/16 is in use on this host');
    const steps: (() => Call)[] = [
      () => ip('addr', 'add', net.host, 'dev', host),
      () => ip('link', 'set', host, 'up'),
      () => inNetns(pid, 'addr', 'add', net.peer, 'dev', PEER),
      () => inNetns(pid, 'link', 'set', 'lo', 'up'),
      () => inNetns(pid, 'link', 'set', PEER, 'up'),
    ];
    for (const s of steps) {
      const c = s();
      calls.push(c);
      if (c.ret < 0) return undo();
    }
    state.veth = { host, hostAddr: net.host, peerAddr: net.peer };
    const hostIp = net.host.split('/')[0]!;
    const notes: Said[] = [
      {
        en: `This session's pair: ${host} on the host has ${net.host}, ${PEER} in the container has ${net.peer}. Every session gets its own /30, so yours may differ from a classmate's. From the container, try ping -c 3 ${hostIp}.`,
        zh: `本会话的 veth 对：宿主机一端 ${host} 的地址是 ${net.host}，容器里 ${PEER} 的地址是 ${net.peer}。每个会话都有自己的 /30 网段，所以你的地址可能和别人不同。在容器里试试 ping -c 3 ${hostIp}。`,
      },
    ];
    return { calls, notes };
  },
};
