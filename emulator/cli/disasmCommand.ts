import { RewindError } from '../errors';
import { ElfImage, parseElf } from '../debuginfo/elf';
import { ObjdumpListing, RangeRequest, symbolRange } from '../debuginfo/disasmListing';
import { CodeSection } from '../debuginfo/disasmElf';
import { parse } from './args';
import { Out } from './dumpCommand';
import { readElfFile } from './machineOptions';

const SYNOPSIS = 'rewind disasm PROG.elf [SYMBOL[+0xOFF]|ADDR] [-n N] [--no-show-raw-insn]';

export const DISASM_USAGE = `${SYNOPSIS}
      the listing \`riscv64-unknown-elf-objdump -d\` (binutils 2.40) prints, line for line: without
      SYMBOL/ADDR every code section; with SYMBOL that function (or N instructions from it with
      -n); with ADDR (hex, 0x optional) N instructions from there (default 20). Instruction lines
      are ADDR:<TAB>ENCODING<TAB>MNEMONIC<TAB>OPERANDS, e.g. "80000010:<TAB>00000513 ...<TAB>li<TAB>a0,0",
      with " # ADDR <sym+0xoff>" after operands that complete a lui/auipc address; each symbol
      opens a block headed "80000000 <_start>:", "..." stands for skipped zero bytes, and $d data
      prints as .word/.short/.byte.`;

const DEFAULT_COUNT = 20;

/** What a SYMBOL|ADDR argument names. */
interface Target { addr: number; what: string; symbol?: { value: number; size: number; func: boolean } }

export async function disasmCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    count: { type: 'string', short: 'n' },
    'no-show-raw-insn': { type: 'boolean' },
  }, SYNOPSIS);
  if (positionals.length < 1 || positionals.length > 2) throw new RewindError('USAGE', `expected an ELF file and at most one SYMBOL or ADDR (usage: ${SYNOPSIS})`);
  const [file, where] = positionals;
  const count = countOption(values.count);
  const elf = parseElf(readElfFile(file), file);
  const listing = new ObjdumpListing(elf, { rawBytes: !values['no-show-raw-insn'] });
  const out = new Out();
  if (where === undefined) {
    if (count !== undefined) throw new RewindError('USAGE', `-n needs a SYMBOL or ADDR to start from (usage: ${SYNOPSIS})`);
    for (const line of listing.objdumpText(file).replace(/\n$/, '').split('\n')) out.line(line);
    out.flush();
    return 0;
  }
  const target = resolve(elf, file, where);
  if (!listing.sectionAt(target.addr)) throw new RewindError('NOT_CODE', `${file}: ${target.what} is outside any code section (${describe(listing.sections)})`);
  for (const line of listing.range(rangeFor(target, count))) out.line(line);
  out.flush();
  return 0;
}

/** Without -n a symbol is listed as objdump --disassemble=SYMBOL lists it; else N instructions. */
function rangeFor(t: Target, count: number | undefined): RangeRequest {
  if (count !== undefined || !t.symbol) return { start: t.addr, count: count ?? DEFAULT_COUNT };
  return symbolRange(t.symbol.value, t.symbol.size, t.symbol.func);
}

function countOption(v: string | boolean | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new RewindError('USAGE', `-n needs a number of instructions (1 or more), not '${v}'`);
  return n;
}

const STT_SECTION = 3;
const STT_FILE = 4;
const STT_FUNC = 2;

function resolve(elf: ElfImage, file: string, where: string): Target {
  const plus = /^(.+?)\+(0x[0-9a-f]+|\d+)$/i.exec(where);
  const name = plus ? plus[1] : where;
  const candidates = elf.symbols.filter((s) => s.name === name && s.shndx !== 0 && s.type !== STT_SECTION && s.type !== STT_FILE);
  if (candidates.length > 0) {
    // Several local symbols can share a name (a static in each file): like
    // objdump --disassemble=SYMBOL, take the first in address order.
    const s = candidates.reduce((a, b) => ((b.value >>> 0) < (a.value >>> 0) ? b : a));
    const value = s.value >>> 0;
    if (plus) {
      const off = Number(plus[2]);
      return { addr: (value + off) >>> 0, what: `${where} (0x${((value + off) >>> 0).toString(16)})` };
    }
    return { addr: value, what: `symbol '${name}' (0x${value.toString(16)})`, symbol: { value, size: s.size, func: s.type === STT_FUNC } };
  }
  if (!plus && /^(0x)?[0-9a-f]{1,8}$/i.test(where)) {
    const addr = parseInt(where.replace(/^0x/i, ''), 16) >>> 0;
    return { addr, what: `address 0x${addr.toString(16)}` };
  }
  throw new RewindError('UNKNOWN_SYMBOL', `${file}: no symbol '${name}'${plus ? '' : ', and it is not a hex address'}`);
}

function describe(sections: CodeSection[]): string {
  if (sections.length === 0) return 'the ELF has none';
  return sections.map((s) => `${s.name} 0x${s.addr.toString(16)}-0x${((s.addr + s.size) >>> 0).toString(16)}`).join(', ');
}
