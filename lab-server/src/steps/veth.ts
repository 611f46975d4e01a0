// A cable between two network namespaces: a veth pair whose host end stays in the host's
// namespace (the lab server's, or in a seat the seat's) and whose other end is made
// directly in the container's, as eth0. Done from outside, like the uid maps: `ip`
// (iproute2) on the host, and `nsenter` to run `ip` in a namespace the server is not in.
import { hostEndName, ifindex, inNetns, ip, subnetFor } from '../net/links.ts';
import type { Call, Said } from '../protocol/results.ts';
import { has, need, refusal } from './state.ts';
import type { StepModule } from './step.ts';

/** The container's end, as every distribution names its first Ethernet card. */
const PEER = 'eth0';

export const veth: StepModule<'veth'> = {
  kind: 'veth',
  refuse(_p, { state }) {
    const r = need.process(state);
    if (r) return r;
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
  async run(_p, { state, session, seat }) {
    const pid = state.pid!;
    const host = hostEndName(session);
    // In a seat "the host" is the seat: its end goes into the seat's network namespace, the
    // one its helper serves from, where nothing else of the machine can see it.
    const onHost = seat ? (...args: string[]) => inNetns(seat.server, ...args) : ip;
    const calls: Call[] = [onHost('link', 'add', host, 'type', 'veth', 'peer', 'name', PEER, 'netns', String(pid))];
    if (calls[0]!.ret < 0) return { calls };
    // From here on the pair exists: reap must find it whatever fails next.
    state.veth = { host, hostAddr: null, peerAddr: null };
    // A seat's namespace holds this one cable: any free block will do.
    const index = seat ? 0 : ifindex(host);
    const net = index === null ? null : subnetFor(index, seat ? seat.server : 'self');
    // Half a connection is worse than none: undo the pair, so the step can be run again.
    const undo = (error?: string) => {
      calls.push(onHost('link', 'del', host));
      state.veth = null;
      return { calls, error };
    };
    if (!net) return undo(index === null ? `${host} vanished right after it was made` : 'every /30 of 10.200.0.0/16 is in use on this host');
    const steps: (() => Call)[] = [
      () => onHost('addr', 'add', net.host, 'dev', host),
      () => onHost('link', 'set', host, 'up'),
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
