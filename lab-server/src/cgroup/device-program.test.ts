// The compiled program, run by a small interpreter of the opcodes it uses, must give the
// answer the v1 devices controller gives for the same rules, for every kind of request.
import { describe, expect, it } from 'vitest';
import { compile, encode, listing, OP, replayV1, type Block, type DevicePolicy } from './device-program.ts';

/** Run the program on one request, as the kernel's BPF interpreter would. */
function run(blocks: Block[], type: number, major: number, minor: number, access: number): number {
  const prog = blocks.flatMap((b) => b.insns);
  const ctx = [(access << 16) | type, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 1000; pc++, steps++) {
    const i = prog[pc];
    if (!i) throw new Error(`fell off the end at ${pc}`);
    switch (i.code) {
      case OP.LDXW:
        r[i.dst] = ctx[i.off / 4]! >>> 0;
        break;
      case OP.AND32:
        r[i.dst] = (r[i.dst]! & i.imm) >>> 0;
        break;
      case OP.RSH32:
        r[i.dst] = r[i.dst]! >>> i.imm;
        break;
      case OP.MOV32X:
        r[i.dst] = r[i.src]!;
        break;
      case OP.MOV64:
        r[i.dst] = i.imm;
        break;
      case OP.JNE:
        if (r[i.dst] !== i.imm) pc += i.off;
        break;
      case OP.JEQ:
        if (r[i.dst] === i.imm) pc += i.off;
        break;
      case OP.EXIT:
        return r[0]!;
      default:
        throw new Error(`unknown opcode ${i.code}`);
    }
  }
  throw new Error('no exit');
}

/** security/device_cgroup.c's answer for a v1 group holding this policy. */
function v1Allows(p: DevicePolicy, type: number, major: number, minor: number, access: number): boolean {
  const matches = (e: DevicePolicy['exceptions'][number]) =>
    (e.type === 'a' || (e.type === 'b' ? 1 : 2) === type) && (e.major === '*' || e.major === major) && (e.minor === '*' || e.minor === minor);
  if (p.allowByDefault) return !p.exceptions.some((e) => matches(e) && (access & e.access) !== 0);
  return p.exceptions.some((e) => matches(e) && (access & ~e.access) === 0);
}

const BOOK = ['c 1:3 rm', 'c 1:5 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:2 rwm', 'c 136:* rwm'];

function agreesEverywhere(p: DevicePolicy) {
  const blocks = compile(p);
  for (const type of [1, 2])
    for (const major of [1, 5, 8, 136, 254])
      for (const minor of [0, 3, 7, 9])
        for (let access = 1; access <= 7; access++) {
          expect(run(blocks, type, major, minor, access) === 1, `${type} ${major}:${minor} access ${access}`).toBe(v1Allows(p, type, major, minor, access));
        }
}

describe('the v1 rules, replayed', () => {
  it('deny a, then an allow list: deny by default with those exceptions', () => {
    const p = replayV1(['a'], BOOK);
    expect(p.allowByDefault).toBe(false);
    expect(p.exceptions.map((e) => e.rule)).toEqual(BOOK);
  });

  it('on an allow-by-default list, allowing takes access away from a denied device, and only the same device', () => {
    const p = replayV1(['c 1:3 rw', 'c 1:* w'], ['c 1:3 w']);
    expect(p.allowByDefault).toBe(true);
    expect(p.exceptions.map((e) => [e.rule, e.access])).toEqual([
      ['c 1:3 rw', 2],
      ['c 1:* w', 4],
    ]);
  });

  it('the same device twice merges its access', () => {
    expect(replayV1(['a'], ['c 1:3 r', 'c 1:3 m']).exceptions.map((e) => e.access)).toEqual([3]);
  });
});

describe('the compiled program answers as v1 does', () => {
  it('for the book list', () => agreesEverywhere(replayV1(['a'], BOOK)));
  it('for deny-by-default with wildcards and block devices', () => agreesEverywhere(replayV1(['a'], ['b 8:* r', 'c *:3 w', 'c 1:3 m'])));
  it('for allow-by-default with exceptions', () => agreesEverywhere(replayV1(['c 1:3 rw', 'b *:* m', 'c 5:* w'], ['c 1:3 w'])));
  it('for everything allowed, and everything denied', () => {
    agreesEverywhere(replayV1([], []));
    agreesEverywhere(replayV1(['a'], []));
  });

  it('writes /dev/null under the book list only for reading and mknod', () => {
    const blocks = compile(replayV1(['a'], BOOK));
    expect(run(blocks, 2, 1, 3, 2)).toBe(1);
    expect(run(blocks, 2, 1, 3, 1)).toBe(1);
    expect(run(blocks, 2, 1, 3, 4)).toBe(0);
    expect(run(blocks, 2, 1, 7, 2)).toBe(0);
    expect(run(blocks, 1, 8, 0, 2)).toBe(0);
    expect(run(blocks, 2, 136, 42, 6)).toBe(1);
  });
});

describe('the program as the kernel gets it and as the page shows it', () => {
  it('is 8 bytes an instruction, and every jump lands inside the program', () => {
    const blocks = compile(replayV1(['a'], BOOK));
    const all = blocks.flatMap((b) => b.insns);
    const bytes = encode(blocks);
    expect(bytes.length).toBe(all.length * 8);
    expect(bytes.readUInt8(0)).toBe(OP.LDXW);
    expect(bytes.readUInt8(1)).toBe((1 << 4) | 2);
    all.forEach((i, pc) => {
      if (i.code === OP.JNE || i.code === OP.JEQ) expect(pc + 1 + i.off).toBeLessThan(all.length);
    });
    expect(all.at(-1)!.code).toBe(OP.EXIT);
  });

  it('lists each rule beside its instructions, numbered as the kernel counts', () => {
    const l = listing(compile(replayV1(['a'], ['c 1:3 rm'])));
    expect(l.map((b) => b.rule)).toEqual([null, 'c 1:3 rm', null]);
    expect(l[1]!.lines).toEqual([' 6: if r2 != 2 goto 14', ' 7: w1 = w3', ' 8: w1 &= 0x4', ' 9: if r1 != 0 goto 14', '10: if r4 != 1 goto 14', '11: if r5 != 3 goto 14', '12: r0 = 1   ; allow', '13: exit']);
    expect(l[2]!.lines).toEqual(['14: r0 = 0   ; deny', '15: exit']);
  });
});
