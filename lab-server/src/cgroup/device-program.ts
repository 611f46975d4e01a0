// cgroup v2 has no devices.allow or devices.deny: a small eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE, attached to the group, answers each device open() and mknod()
// instead. This compiles the chapter's v1 rules into such a program, as runc and systemd do,
// so that a lesson's list means the same on both versions.
//
// The v1 rules are first replayed as the kernel's v1 devices controller would take them
// (security/device_cgroup.c: a default behaviour plus a list of exceptions), then each
// exception becomes one block of instructions. The program sees, in its context
// (struct bpf_cgroup_dev_ctx), access_type = (access << 16) | type, then major, then minor.

/** A device rule as v1 writes it: "a", or "c 1:3 rwm" with `*` for any number. */
export type DeviceRule = string;

const TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR
const ACCESS = { m: 1, r: 2, w: 4 } as const; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE
const ALL_ACCESS = 7;

interface Exception {
  /** 'a' matches both kinds. */
  type: 'a' | 'b' | 'c';
  major: number | '*';
  minor: number | '*';
  access: number;
  /** The rule as the student wrote it, for the listing. */
  rule: DeviceRule;
}

/** What v1 keeps for a group: allow or deny by default, and the exceptions to that. */
export interface DevicePolicy {
  allowByDefault: boolean;
  exceptions: Exception[];
}

function parseRule(rule: DeviceRule): Exception {
  if (rule === 'a') return { type: 'a', major: '*', minor: '*', access: ALL_ACCESS, rule };
  const m = /^([abc]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/.exec(rule);
  if (!m) throw new Error(`not a device rule: ${rule}`);
  const num = (s: string) => (s === '*' ? '*' : Number(s));
  const access = [...m[4]!].reduce((a, ch) => a | ACCESS[ch as keyof typeof ACCESS], 0);
  return { type: m[1] as Exception['type'], major: num(m[2]!), minor: num(m[3]!), access, rule };
}

const sameDevice = (a: Exception, b: Exception) => a.type === b.type && a.major === b.major && a.minor === b.minor;

/**
 * The v1 controller's state after writing each deny rule, then each allow rule, to a group
 * that starts as its parent's (allow everything). "a" resets the list; any other rule adds
 * an exception when it goes against the default, and takes access away from an exception
 * for the same device when it goes with it.
 */
export function replayV1(deny: DeviceRule[], allow: DeviceRule[]): DevicePolicy {
  const policy: DevicePolicy = { allowByDefault: true, exceptions: [] };
  const writes = [...deny.map((r) => ({ allow: false, ex: parseRule(r) })), ...allow.map((r) => ({ allow: true, ex: parseRule(r) }))];
  for (const { allow: isAllow, ex } of writes) {
    if (ex.rule === 'a') {
      policy.allowByDefault = isAllow;
      policy.exceptions = [];
    } else if (isAllow !== policy.allowByDefault) {
      const same = policy.exceptions.find((e) => sameDevice(e, ex));
      if (same) same.access |= ex.access;
      else policy.exceptions.push({ ...ex });
    } else {
      for (const e of policy.exceptions.filter((e) => sameDevice(e, ex))) e.access &= ~ex.access;
      policy.exceptions = policy.exceptions.filter((e) => e.access !== 0);
    }
  }
  return policy;
}

/** One eBPF instruction (struct bpf_insn). */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// The few opcodes the program needs (<linux/bpf_common.h>, <linux/bpf.h>).
export const OP = {
  LDXW: 0x61, // dst = *(u32 *)(src + off)
  AND32: 0x54, // w_dst &= imm
  RSH32: 0x74, // w_dst >>= imm
  MOV32X: 0xbc, // w_dst = w_src
  MOV64: 0xb7, // dst = imm
  JNE: 0x55, // if dst != imm goto +off
  JEQ: 0x15, // if dst == imm goto +off
  EXIT: 0x95,
} as const;

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/** A block of the program and the v1 rule it comes from (null for the prologue and the default). */
export interface Block {
  rule: DeviceRule | null;
  insns: Insn[];
}

/**
 * r2 = type, r3 = access, r4 = major, r5 = minor; then one block per exception, each ending
 * in `return allowed-or-not`, with every failed test jumping to the next block; then the default.
 */
export function compile(policy: DevicePolicy): Block[] {
  const prologue: Insn[] = [
    insn(OP.LDXW, 2, 1, 0, 0),
    insn(OP.AND32, 2, 0, 0, 0xffff),
    insn(OP.LDXW, 3, 1, 0, 0),
    insn(OP.RSH32, 3, 0, 0, 16),
    insn(OP.LDXW, 4, 1, 4, 0),
    insn(OP.LDXW, 5, 1, 8, 0),
  ];
  const answer = (allow: boolean) => [insn(OP.MOV64, 0, 0, 0, allow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0)];
  const blocks: Block[] = [{ rule: null, insns: prologue }];
  for (const e of policy.exceptions) {
    // Each test is "jump to the next block unless it holds"; offsets are filled in below.
    const tests: Insn[] = [];
    if (e.type !== 'a') tests.push(insn(OP.JNE, 2, 0, 0, TYPE[e.type]));
    // Which access bits make this exception apply: on a deny-by-default list the exception
    // allows a request only if it asks for nothing beyond the rule's bits; on an
    // allow-by-default list it denies a request that asks for any of them.
    if (e.access !== ALL_ACCESS) {
      const mask = policy.allowByDefault ? e.access : ~e.access & ALL_ACCESS;
      tests.push(insn(OP.MOV32X, 1, 3, 0, 0), insn(OP.AND32, 1, 0, 0, mask));
      // deny-by-default: bits outside the rule → skip; allow-by-default: no shared bit → skip
      tests.push(policy.allowByDefault ? insn(OP.JEQ, 1, 0, 0, 0) : insn(OP.JNE, 1, 0, 0, 0));
    }
    if (e.major !== '*') tests.push(insn(OP.JNE, 4, 0, 0, e.major));
    if (e.minor !== '*') tests.push(insn(OP.JNE, 5, 0, 0, e.minor));
    const body = [...tests, ...answer(!policy.allowByDefault)];
    body.forEach((ins, i) => {
      if (ins.code === OP.JNE || ins.code === OP.JEQ) ins.off = body.length - i - 1;
    });
    blocks.push({ rule: e.rule, insns: body });
  }
  blocks.push({ rule: null, insns: answer(policy.allowByDefault) });
  return blocks;
}

/** The program as bytes for bpf(BPF_PROG_LOAD): 8 bytes an instruction, little-endian. */
export function encode(blocks: Block[]): Buffer {
  const all = blocks.flatMap((b) => b.insns);
  const buf = Buffer.alloc(all.length * 8);
  all.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm, n * 8 + 4);
  });
  return buf;
}

/** struct bpf_cgroup_dev_ctx, by byte offset. */
const FIELD: Record<number, string> = { 0: 'access_type', 4: 'major', 8: 'minor' };

/** One instruction as bpftool prints it, with what the context field means. */
export function disassemble(i: Insn, pc: number): string {
  switch (i.code) {
    case OP.LDXW:
      return `r${i.dst} = *(u32 *)(r${i.src} + ${i.off})${i.src === 1 ? `   ; ctx->${FIELD[i.off]}` : ''}`;
    case OP.AND32:
      return `w${i.dst} &= 0x${i.imm.toString(16)}${i.dst === 2 ? '   ; type: 1 block, 2 char' : ''}`;
    case OP.RSH32:
      return `w${i.dst} >>= ${i.imm}${i.dst === 3 ? '   ; access: 1 mknod, 2 read, 4 write' : ''}`;
    case OP.MOV32X:
      return `w${i.dst} = w${i.src}`;
    case OP.MOV64:
      return `r${i.dst} = ${i.imm}${i.dst === 0 ? (i.imm ? '   ; allow' : '   ; deny') : ''}`;
    case OP.JNE:
      return `if r${i.dst} != ${i.imm} goto ${pc + 1 + i.off}`;
    case OP.JEQ:
      return `if r${i.dst} == ${i.imm} goto ${pc + 1 + i.off}`;
    case OP.EXIT:
      return 'exit';
    default:
      return `.insn 0x${i.code.toString(16)}`;
  }
}

/** The program, block by block beside the rule it came from, numbered as the kernel counts. */
export function listing(blocks: Block[]): { rule: DeviceRule | null; lines: string[] }[] {
  let pc = 0;
  return blocks.map((b) => ({ rule: b.rule, lines: b.insns.map((i) => `${String(pc).padStart(2)}: ${disassemble(i, pc++)}`) }));
}
