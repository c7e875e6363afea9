/**
 * RV32IMAC + Zicsr + Zifencei disassembler that prints what Debian's
 * `riscv64-unknown-elf-objdump -d` (binutils 2.40) prints: the same mnemonics (its alias choices,
 * quirks included: 2.40 prints `addi` as `add`, `slli` as `sll`, `csrrwi` as `csrrw`), the same
 * operands (ABI register names, decimal offsets, hex `lui`/shift amounts, CSR names), absolute
 * branch targets with `<symbol+0xoff>`, and `.2byte 0x...`/`.4byte 0x...` for encodings it does
 * not know. The test suite compares it instruction by instruction with the real tool.
 *
 * It is written in the shape of binutils' riscv-dis.c on purpose: the decoder picks an objdump
 * opcode-table entry (a name and an operand format such as "d,o(s)"), and one printer interprets
 * the format letters exactly as print_insn_args does, including its side effects on the
 * "address tracker" behind objdump's `# 80001234 <sym>` comments. That keeps the two
 * independent of the CPU's own decoder, whose job (executing) cares about other distinctions.
 */
import { csrName, PrivSpec } from './disasmCsr';
import { DisasmIsa, RV32IMAC } from './disasmIsa';
import { ciImm, decode16, OpChoice, rvcImm } from './disasmRvc';

export { DisasmIsa, RV32IMAC, parseIsa } from './disasmIsa';
export { PrivSpec, DEFAULT_PRIV_SPEC } from './disasmCsr';

export const ABI_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

/** FENCE predecessor/successor sets; objdump prints an empty set as "unknown". */
const FENCE_SETS = ['unknown', 'w', 'r', 'rw', 'o', 'ow', 'or', 'orw', 'i', 'iw', 'ir', 'irw', 'io', 'iow', 'ior', 'iorw'];

const AMO_NAMES: Record<number, string> = {
  0x00: 'amoadd.w', 0x01: 'amoswap.w', 0x04: 'amoxor.w', 0x08: 'amoor.w', 0x0c: 'amoand.w',
  0x10: 'amomin.w', 0x14: 'amomax.w', 0x18: 'amominu.w', 0x1c: 'amomaxu.w',
};

/**
 * objdump's riscv_private_data: what earlier instructions left behind for the `# address`
 * comments. `lui`/`auipc` remember their result per destination register; the next `addi`,
 * load, store or `jalr` based on that register consumes it and prints the sum. objdump never
 * forgets a value for other writes to the register, so a stale one can print on an unrelated
 * access much later: that is reproduced, not fixed. Keep one tracker per listing, in address
 * order, as objdump does; a fresh one per instruction still gives the x0/tp-relative comments.
 */
export class AddressTracker {
  readonly hi: (number | undefined)[] = new Array<number | undefined>(32).fill(undefined);
  /** The value of `__global_pointer$`, if the ELF defines it: gp-relative accesses print it. */
  constructor(readonly gp?: number) {}
}

export interface DisasmOptions {
  /**
   * Names an address for branch targets and comments: return what goes between `<` and `>`
   * (`main`, `loop+0x1c`), or undefined for a bare address. Without it, addresses print as
   * `0x80000010`, as objdump does for a file without symbols.
   */
  symbolize?(addr: number): string | undefined;
  /** Carries objdump's `lui`/`auipc` tracking from one instruction to the next. */
  tracker?: AddressTracker;
  /** Instruction classes to decode (default: all of RV32IMAC + Zicsr + Zifencei). */
  isa?: DisasmIsa;
  /** The privileged spec whose CSR names to use (default 1.12, objdump's when the ELF is silent). */
  privSpec?: PrivSpec;
}

/**
 * Bytes an instruction takes: 2 or 4 for every RV32 encoding; the reserved longer encodings
 * (low bits 11111) announce 6 to 22, which objdump honours when it prints them as data.
 */
export type InsnLength = 2 | 4 | 6 | 8 | 10 | 12 | 14 | 16 | 18 | 20 | 22;

export interface Disassembled {
  /** Bytes taken (a number given for a longer encoding stands for its first 4, zero-extended). */
  length: InsnLength;
  /** `add`, `c.nop`, or for an unknown encoding the directive objdump prints (`.4byte`). */
  mnemonic: string;
  /** `a0,a0,1`, `80000088 <park>`; empty for `ret`, `nop`, ... */
  operands: string;
  /** objdump's trailing comment without `# `: `80001234 <__global_pointer$>`. */
  comment?: string;
  /** The absolute target of a branch or jump. */
  target?: number;
  /** The encoding matched nothing objdump knows (for this ISA). */
  illegal: boolean;
  /** `mnemonic\toperands # comment`, exactly objdump's text after the raw bytes. */
  text: string;
}

/** riscv_insn_length: the length the low bits announce (binutils' rules, 2 for unsupported). */
export function insnLength(lowHalf: number): InsnLength {
  if ((lowHalf & 3) !== 3) return 2;
  if ((lowHalf & 0x1f) !== 0x1f) return 4;
  if ((lowHalf & 0x3f) === 0x1f) return 6;
  if ((lowHalf & 0x7f) === 0x3f) return 8;
  if ((lowHalf & 0x7f) === 0x7f && (lowHalf & 0x7000) !== 0x7000) return (10 + ((lowHalf >>> 11) & 0xe)) as InsnLength;
  return 2;
}

/**
 * Disassembles the instruction at the start of `code` (its bytes, little-endian, or the
 * encoding as a number: a 16-bit encoding in the low half, a 32-bit one whole) located at
 * `addr`.
 */
export function disassemble(code: Uint8Array | number, addr: number, opts: DisasmOptions = {}): Disassembled {
  let word: number;
  let length: InsnLength;
  if (typeof code === 'number') {
    length = insnLength(code & 0xffff);
    word = length === 2 ? code & 0xffff : code >>> 0;
    if (length > 4) return unknown(length, longBytes(word, length));
  } else {
    if (code.length < 2) throw new RangeError(`disassemble: need at least 2 bytes, got ${code.length}`);
    length = insnLength(code[0] | (code[1] << 8));
    if (code.length < length) throw new RangeError(`disassemble: a ${length}-byte instruction, only ${code.length} bytes given`);
    if (length > 4) return unknown(length, code.subarray(0, length));
    word = length === 2 ? code[0] | (code[1] << 8) : (code[0] | (code[1] << 8) | (code[2] << 16) | (code[3] << 24)) >>> 0;
  }
  const isa = opts.isa ?? RV32IMAC;
  const op = length === 2 ? decode16(word, isa) : decode32(word, isa);
  if (!op) return unknown(length, undefined, word);
  return new OperandPrinter(word, addr >>> 0, opts).print(op[0], op[1]);
}

function unknown(length: InsnLength, bytes: Uint8Array | undefined, word = 0): Disassembled {
  // As riscv_disassemble_insn: .2byte/.4byte/.8byte with the value in hex, else a byte list.
  let mnemonic: string;
  let operands: string;
  if (length === 2 || length === 4) {
    mnemonic = `.${length}byte`;
    operands = `0x${word.toString(16)}`;
  } else if (length === 8 && bytes) {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    mnemonic = '.8byte';
    operands = `0x${v.toString(16)}`;
  } else {
    mnemonic = '.byte';
    operands = Array.from(bytes ?? [], (b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ');
  }
  return { length, mnemonic, operands, illegal: true, text: `${mnemonic}\t${operands}` };
}

function longBytes(word: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < 4; i++) b[i] = (word >>> (8 * i)) & 0xff;
  return b;
}

/** Which objdump opcode-table entry a 32-bit encoding lands on (binutils 2.40's choices). */
function decode32(w: number, isa: DisasmIsa): OpChoice | undefined {
  const rd = (w >>> 7) & 31;
  const f3 = (w >>> 12) & 7;
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  const f7 = w >>> 25;
  const immI = w >> 20;
  switch (w & 0x7f) {
    case 0x37: return ['lui', 'd,u'];
    case 0x17: return ['auipc', 'd,u'];
    case 0x6f: return rd === 0 ? ['j', 'a'] : rd === 1 ? ['jal', 'a'] : ['jal', 'd,a'];
    case 0x67:
      if (f3 !== 0) return undefined;
      if (rd === 0) return rs1 === 1 && immI === 0 ? ['ret', ''] : immI === 0 ? ['jr', 's'] : ['jr', 'o(s)'];
      if (rd === 1) return immI === 0 ? ['jalr', 's'] : ['jalr', 'o(s)'];
      return immI === 0 ? ['jalr', 'd,s'] : ['jalr', 'd,o(s)'];
    case 0x63:
      switch (f3) {
        case 0: return rs2 === 0 ? ['beqz', 's,p'] : ['beq', 's,t,p'];
        case 1: return rs2 === 0 ? ['bnez', 's,p'] : ['bne', 's,t,p'];
        case 4: return rs2 === 0 ? ['bltz', 's,p'] : rs1 === 0 ? ['bgtz', 't,p'] : ['blt', 's,t,p'];
        case 5: return rs1 === 0 ? ['blez', 't,p'] : rs2 === 0 ? ['bgez', 's,p'] : ['bge', 's,t,p'];
        case 6: return ['bltu', 's,t,p'];
        case 7: return ['bgeu', 's,t,p'];
        default: return undefined;
      }
    case 0x03: {
      const name = ['lb', 'lh', 'lw', undefined, 'lbu', 'lhu'][f3];
      return name ? [name, 'd,o(s)'] : undefined;
    }
    case 0x23: {
      const name = ['sb', 'sh', 'sw'][f3];
      return name ? [name, 't,q(s)'] : undefined;
    }
    case 0x13:
      switch (f3) {
        case 0:
          if (rd === 0 && rs1 === 0 && immI === 0) return ['nop', ''];
          return rs1 === 0 ? ['li', 'd,j'] : immI === 0 ? ['mv', 'd,s'] : ['add', 'd,s,j'];
        // Shift amounts are 6 bits in 2.40's table even for RV32, so shamt 32..63 still decodes.
        case 1: return w >>> 26 === 0 ? ['sll', 'd,s,>'] : undefined;
        case 2: return ['slti', 'd,s,j'];
        case 3: return immI === 1 ? ['seqz', 'd,s'] : ['sltiu', 'd,s,j'];
        case 4: return immI === -1 ? ['not', 'd,s'] : ['xor', 'd,s,j'];
        case 5: return w >>> 26 === 0 ? ['srl', 'd,s,>'] : w >>> 26 === 0x10 ? ['sra', 'd,s,>'] : undefined;
        case 6: return ['or', 'd,s,j'];
        default: return immI === 255 ? ['zext.b', 'd,s'] : ['and', 'd,s,j'];
      }
    case 0x33:
      if (f7 === 0) {
        switch (f3) {
          case 2: return rs2 === 0 ? ['sltz', 'd,s'] : rs1 === 0 ? ['sgtz', 'd,t'] : ['slt', 'd,s,t'];
          case 3: return rs1 === 0 ? ['snez', 'd,t'] : ['sltu', 'd,s,t'];
          default: return [['add', 'sll', '', '', 'xor', 'srl', 'or', 'and'][f3], 'd,s,t'];
        }
      }
      if (f7 === 0x20) {
        if (f3 === 0) return rs1 === 0 ? ['neg', 'd,t'] : ['sub', 'd,s,t'];
        return f3 === 5 ? ['sra', 'd,s,t'] : undefined;
      }
      if (f7 === 1) {
        if (f3 < 4) return isa.zmmul ? [['mul', 'mulh', 'mulhsu', 'mulhu'][f3], 'd,s,t'] : undefined;
        return isa.m ? [['div', 'divu', 'rem', 'remu'][f3 - 4], 'd,s,t'] : undefined;
      }
      return undefined;
    case 0x0f:
      if (rd !== 0 || rs1 !== 0) return undefined;
      if (f3 === 1) return isa.zifencei && immI === 0 ? ['fence.i', ''] : undefined;
      if (f3 !== 0) return undefined;
      if (w === 0x0100000f && isa.zihintpause) return ['pause', ''];
      if (w >>> 28 === 0) return (w >>> 20) === 0xff ? ['fence', ''] : ['fence', 'P,Q'];
      return w === 0x8330000f ? ['fence.tso', ''] : undefined;
    case 0x73:
      return decodeSystem(w, f3, rd, rs1, rs2, isa);
    case 0x2f: {
      if (!isa.a || f3 !== 2) return undefined;
      const suffix = ['', '.rl', '.aq', '.aqrl'][(w >>> 25) & 3];
      const f5 = w >>> 27;
      if (f5 === 0x02) return rs2 === 0 ? [`lr.w${suffix}`, 'd,(s)'] : undefined;
      if (f5 === 0x03) return [`sc.w${suffix}`, 'd,t,(s)'];
      const amo = AMO_NAMES[f5];
      return amo ? [`${amo}${suffix}`, 'd,t,(s)'] : undefined;
    }
    default:
      return undefined;
  }
}

const COUNTER_READS: Record<number, string> = {
  0xc00: 'rdcycle', 0xc01: 'rdtime', 0xc02: 'rdinstret', 0xc80: 'rdcycleh', 0xc81: 'rdtimeh', 0xc82: 'rdinstreth',
};

const SYSTEM_EXACT: Record<number, string> = {
  0x00000073: 'ecall', 0x00100073: 'ebreak', 0x00200073: 'uret', 0x10200073: 'sret',
  0x30200073: 'mret', 0x7b200073: 'dret', 0x10500073: 'wfi',
};

function decodeSystem(w: number, f3: number, rd: number, rs1: number, rs2: number, isa: DisasmIsa): OpChoice | undefined {
  if (f3 === 0) {
    const name = SYSTEM_EXACT[w];
    if (name) return [name, ''];
    if (w >>> 25 === 0x09 && rd === 0) return rs2 !== 0 ? ['sfence.vma', 's,t'] : rs1 !== 0 ? ['sfence.vma', 's'] : ['sfence.vma', ''];
    return undefined;
  }
  if (w === 0xc0001073) return ['unimp', '']; // csrw cycle,zero: the canonical 32-bit unimp
  const csr = w >>> 20;
  // The counter reads are base-ISA aliases in 2.40's table: they decode even without Zicsr.
  const counter = f3 === 2 && rs1 === 0 ? COUNTER_READS[csr] : undefined;
  if (counter) return [counter, 'd'];
  if (!isa.zicsr || f3 === 4) return undefined;
  // 2.40's table lists the register aliases (csrw E,s) before the immediate ones, and its
  // `csrw E,Z` etc. share the names: `csrwi mstatus,8` prints as `csrw mstatus,8`.
  const src = f3 >= 5 ? 'Z' : 's';
  const base = ['', 'csrrw', 'csrrs', 'csrrc', '', 'csrrw', 'csrrs', 'csrrc'][f3];
  const short = ['', 'csrw', 'csrs', 'csrc', '', 'csrw', 'csrs', 'csrc'][f3];
  if (f3 === 2 && rs1 === 0) return ['csrr', 'd,E'];
  return rd === 0 ? [short, `E,${src}`] : [base, `d,E,${src}`];
}

/** print_insn_args for the format letters used above, with maybe_print_address's bookkeeping. */
class OperandPrinter {
  private out = '';
  private commentAddr: number | undefined;
  private target: number | undefined;
  private readonly tracker: AddressTracker;

  constructor(private readonly w: number, private readonly pc: number, private readonly opts: DisasmOptions) {
    this.tracker = opts.tracker ?? new AddressTracker();
  }

  print(name: string, format: string): Disassembled {
    const w = this.w;
    const rd = (w >>> 7) & 31;
    const rs1 = (w >>> 15) & 31;
    const immI = w >> 20;
    for (let i = 0; i < format.length; i++) {
      const c = format[i];
      switch (c) {
        case ',': case '(': case ')': this.out += c; break;
        case 'd':
          this.trackHigh(rd);
          this.out += ABI_NAMES[rd];
          break;
        case 's':
          if ((w & 0x707f) === 0x67) this.maybeAddress(rs1, immI);
          this.out += ABI_NAMES[rs1];
          break;
        case 't': this.out += ABI_NAMES[(w >>> 20) & 31]; break;
        case 'o':
          this.maybeAddress(rs1, immI);
          this.immediateI(rs1, immI);
          break;
        case 'j': this.immediateI(rs1, immI); break;
        case 'q':
          this.maybeAddress(rs1, ((w >> 25) << 5) | ((w >>> 7) & 31));
          this.out += String(((w >> 25) << 5) | ((w >>> 7) & 31));
          break;
        case 'u': this.out += hex(w >>> 12); break;
        case '>': this.out += hex((w >>> 20) & 0x3f); break;
        case 'a': this.address(this.pc + jImm(w)); break;
        case 'p': this.address(this.pc + bImm(w)); break;
        case 'E': this.out += csrName(w >>> 20, this.opts.privSpec); break;
        case 'Z': this.out += String(rs1); break;
        case 'P': this.out += FENCE_SETS[(w >>> 24) & 15]; break;
        case 'Q': this.out += FENCE_SETS[(w >>> 20) & 15]; break;
        case 'C': this.compressed(format[++i]); break;
        default: throw new Error(`disasm: unknown operand format '${c}' in '${format}'`);
      }
    }
    let text = format === '' ? name : `${name}\t${this.out}`;
    let comment: string | undefined;
    if (this.commentAddr !== undefined) {
      comment = this.formatAddress(this.commentAddr);
      text += ` # ${comment}`;
    }
    return { length: (w & 3) === 3 ? 4 : 2, mnemonic: name, operands: this.out, comment, target: this.target, illegal: false, text };
  }

  private compressed(c: string): void {
    const w = this.w;
    const rd = (w >>> 7) & 31;
    switch (c) {
      case 's': case 'w': this.out += ABI_NAMES[((w >>> 7) & 7) + 8]; break;
      case 't': this.out += ABI_NAMES[((w >>> 2) & 7) + 8]; break;
      case 'U': this.out += ABI_NAMES[rd]; break;
      case 'c': this.out += 'sp'; break;
      case 'V': this.out += ABI_NAMES[(w >>> 2) & 31]; break;
      case 'j': case 'o':
        if ((w & 0xe003) === 0x0001 && rd !== 0) this.maybeAddress(rd, ciImm(w));
        this.out += String(ciImm(w));
        break;
      case 'k': this.out += String(rvcImm.lw(w)); break;
      case 'm': this.out += String(rvcImm.lwsp(w)); break;
      case 'M': this.out += String(rvcImm.swsp(w)); break;
      case 'K': this.out += String(rvcImm.addi4spn(w)); break;
      case 'L': this.out += String(rvcImm.addi16sp(w)); break;
      case 'u': this.out += hex(ciImm(w) & 0xfffff); break;
      case '>': this.out += hex(ciImm(w) & 0x3f); break;
      case 'p': this.address(this.pc + rvcImm.branch(w)); break;
      case 'a': this.address(this.pc + rvcImm.jump(w)); break;
      default: throw new Error(`disasm: unknown compressed operand format 'C${c}'`);
    }
  }

  /** The `j` immediate, which for addi (and jalr, through `o`) also feeds the comment. */
  private immediateI(rs1: number, imm: number): void {
    const w = this.w;
    if (((w & 0x707f) === 0x13 && rs1 !== 0) || (w & 0x707f) === 0x67) this.maybeAddress(rs1, imm);
    this.out += String(imm);
  }

  /** The `d` operand of lui/auipc/c.lui records the value it builds for a later comment. */
  private trackHigh(rd: number): void {
    const w = this.w;
    if ((w & 0x7f) === 0x17) this.tracker.hi[rd] = (this.pc + (w & 0xfffff000)) >>> 0;
    else if ((w & 0x7f) === 0x37) this.tracker.hi[rd] = (w & 0xfffff000) >>> 0;
    else if ((w & 0xffff0000) === 0 && (w & 0xe003) === 0x6001) this.tracker.hi[rd] = (ciImm(w) << 12) >>> 0;
  }

  /** maybe_print_address: decide whether (and what) the `# address` comment shows. */
  private maybeAddress(base: number, offset: number): void {
    const hi = this.tracker.hi[base];
    let a: number;
    if (hi !== undefined) {
      a = (base !== 0 ? hi : 0) + offset;
      this.tracker.hi[base] = undefined;
    } else if (base === 3 && this.tracker.gp !== undefined) {
      a = this.tracker.gp + offset;
    } else if (base === 4 || base === 0) {
      a = offset;
    } else {
      return;
    }
    this.commentAddr = a >>> 0;
  }

  private address(a: number): void {
    this.target = a >>> 0;
    this.out += this.formatAddress(this.target);
  }

  /** objdump_print_addr: `80000088 <park>`, or `0x80000088` when there are no symbols. */
  private formatAddress(a: number): string {
    if (!this.opts.symbolize) return `0x${a.toString(16)}`;
    const sym = this.opts.symbolize(a);
    return sym === undefined ? a.toString(16) : `${a.toString(16)} <${sym}>`;
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** J-type offset: imm[20|10:1|11|19:12]. */
function jImm(w: number): number {
  return ((w >> 11) & ~0xfffff) | (w & 0xff000) | ((w >>> 9) & 0x800) | ((w >>> 20) & 0x7fe);
}

/** B-type offset: imm[12|10:5] ... imm[4:1|11]. */
function bImm(w: number): number {
  return ((w >> 19) & ~0xfff) | ((w << 4) & 0x800) | ((w >>> 20) & 0x7e0) | ((w >>> 7) & 0x1e);
}
