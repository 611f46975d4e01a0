// A namespace's devices and addresses from /proc/<pid>/net, on text as this kind of machine prints it (proc(5)).
import { describe, expect, test } from 'vitest';
import { devicesWithAddresses, ipv6, parseFibLocal, parseIfInet6, parseNetDev, parseRoutes, routeOf } from './addresses.ts';

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 27018233097 9841674    0    0    0     0          0         0 27018233097 9841674    0    0    0     0       0          0
  eth0:  1200 10 0 0 0 0 0 0  3400 20 0 0 0 0 0 0
veth1234-5: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`;

// A kernel whose main and local tables share a trie prints the local leaves under both.
const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
        +-- 192.0.2.0/30 2 0 2
           |-- 192.0.2.0
              /24 link UNICAST
           |-- 192.0.2.2
              /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 127.0.0.0/8 2 0 2
           |-- 127.0.0.1
              /32 host LOCAL
     |-- 10.200.0.5
        /32 host LOCAL
`;

const ROUTE = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
sbx-1	0400C80A	00000000	0001	0	0	0	FCFFFFFF	0	0	0
`;

const IF_INET6 = `fe8000000000000000fc00fffe000001 04 40 20 80     eth0
fd000000000000000000000000000002 04 40 00 82     eth0
00000000000000000000000000000001 01 80 10 80       lo
`;

describe('network files', () => {
  test('net/dev: names with their receive and transmit counters, header lines skipped', () => {
    const devs = parseNetDev(NET_DEV);
    expect(devs.map((d) => d.name)).toEqual(['lo', 'eth0', 'veth1234-5']);
    expect(devs[1]).toEqual({ name: 'eth0', addresses: [], rxBytes: 1200, rxPackets: 10, txBytes: 3400, txPackets: 20 });
  });

  test('if_inet6: addresses in RFC 5952 form with their prefix', () => {
    expect(parseIfInet6(IF_INET6)).toEqual([
      { dev: 'eth0', address: 'fe80::fc:ff:fe00:1/64' },
      { dev: 'eth0', address: 'fd00::2/64' },
      { dev: 'lo', address: '::1/128' },
    ]);
    expect(ipv6('20010db8000000000000000000000000')).toBe('2001:db8::');
    expect(ipv6('20010db8000100000001000000000001')).toBe('2001:db8:1:0:1::1');
    // A single zero group is written out, not as "::".
    expect(ipv6('20010db8000000010001000100010001')).toBe('2001:db8:0:1:1:1:1:1');
  });

  test('fib_trie: the /32 host LOCAL leaves, once each, not the broadcast or the /8', () => {
    expect(parseFibLocal(FIB_TRIE).sort()).toEqual(['10.200.0.5', '127.0.0.1', '192.0.2.2']);
  });

  test('route: little-endian hex, longest connected route names the device', () => {
    const routes = parseRoutes(ROUTE);
    expect(routes).toHaveLength(3);
    expect(routeOf('192.0.2.2', routes)).toEqual({ dev: 'eth0', prefix: 24 });
    expect(routeOf('10.200.0.5', routes)).toEqual({ dev: 'sbx-1', prefix: 30 });
    expect(routeOf('127.0.0.1', routes)).toEqual({ dev: 'lo', prefix: 8 });
    // The default route has a gateway: it holds no local address.
    expect(routeOf('203.0.113.9', routes)).toBeNull();
  });

  test('devices with their addresses, bounded', () => {
    const { devices, truncated } = devicesWithAddresses({ dev: NET_DEV, ifInet6: IF_INET6, fibTrie: FIB_TRIE, route: ROUTE }, 32, 8);
    expect(truncated).toBe(false);
    expect(devices.find((d) => d.name === 'lo')!.addresses).toEqual(['127.0.0.1/8', '::1/128']);
    expect(devices.find((d) => d.name === 'eth0')!.addresses).toEqual(['192.0.2.2/24', 'fe80::fc:ff:fe00:1/64', 'fd00::2/64']);
    const cut = devicesWithAddresses({ dev: NET_DEV, ifInet6: IF_INET6, fibTrie: FIB_TRIE, route: ROUTE }, 1, 1);
    expect(cut.devices.map((d) => d.name)).toEqual(['lo']);
    expect(cut.devices[0]!.addresses).toEqual(['127.0.0.1/8']);
    expect(cut.truncated).toBe(true);
  });

  test('garbage gives nothing, never a throw', () => {
    for (const junk of ['', '\n\n', 'lo: x y z', '|-- 999.1.1.1\n /32 host LOCAL', 'zzzz 1 2 3 4 5 6 7 8', '\u0000'.repeat(100)]) {
      expect(() => devicesWithAddresses({ dev: junk, ifInet6: junk, fibTrie: junk, route: junk }, 32, 8)).not.toThrow();
      expect(parseNetDev(junk)).toEqual([]);
      expect(parseIfInet6(junk)).toEqual([]);
      expect(parseRoutes(junk)).toEqual([]);
    }
  });
});
