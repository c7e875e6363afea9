import { RewindError } from '../errors';
import { Machine } from '../machine/machine';
import { parseElf } from '../debuginfo/elf';
import { DebugInfo, loadDebugInfo } from '../debuginfo/debugInfo';
import { ABI_NAMES, disassemble } from '../debuginfo/disasm';
import { TimeTravel } from '../timetravel/timeTravel';
import { openRecording, openTimeTravel } from '../session/openRecording';
import { intOption, parse } from './args';
import { readElfFile } from './machineOptions';

export const SEEK_USAGE = 'rewind seek T.rwtrace ICOUNT [--elf PROG.elf] [--json]';
export const LAST_WRITE_USAGE = 'rewind last-write T.rwtrace ADDR[:LEN] [--before ICOUNT] [--elf PROG.elf] [--json]';

/** A recording opened for time travel, with the guest's debug info. */
function openForSeek(file: string, elfOption: string | undefined): { tt: TimeTravel; info: DebugInfo } {
  const { meta } = openRecording(file);
  const elfPath = elfOption ?? meta.guest.path;
  const elf = readElfFile(elfPath);
  const { tt } = openTimeTravel(file, elf, elfPath);
  return { tt, info: loadDebugInfo(parseElf(elf, elfPath)) };
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** `pc <function+off> at file:line` — as much of it as the debug info knows. */
function where(info: DebugInfo, pc: number): string {
  const fn = info.functionAt(pc);
  const loc = info.lineAt(pc);
  return `${hex(pc)}${fn ? ` <${fn.offset ? `${fn.name}+0x${fn.offset.toString(16)}` : fn.name}>` : ''}${loc ? ` at ${loc.file}:${loc.line}` : ''}`;
}

function instructionAt(m: Machine, info: DebugInfo, pc: number): string {
  if (m.bus.fetch16(pc) < 0) return '(no code here)';
  const lo = m.bus.peek(pc, 2);
  const word = (lo & 3) === 3 ? (lo | (m.bus.peek(pc + 2, 2) << 16)) >>> 0 : lo;
  return disassemble(word, pc, { symbolize: (a) => info.symbols.describe(a) }).text;
}

function machineState(tt: TimeTravel, info: DebugInfo) {
  const m = tt.machine;
  const h = m.harts[m.lastHart];
  const pc = h.pc >>> 0;
  const stack = info.callStack(pc, h.x, (a) => m.bus.peek(a, 4));
  return {
    icount: tt.icount, hart: h.hartId, pc, where: where(info, pc), instruction: instructionAt(m, info, pc),
    registers: Object.fromEntries(ABI_NAMES.map((n, i) => [n, h.x[i] >>> 0])),
    stack: stack.map((f) => ({ pc: f.pc, function: f.function, file: f.file, line: f.line })),
  };
}

function printState(s: ReturnType<typeof machineState>, info: DebugInfo): string {
  let out = `icount ${s.icount}, hart ${s.hart}\npc ${s.where}\n   ${s.instruction}\n\nregisters\n`;
  const names = Object.keys(s.registers);
  for (let i = 0; i < names.length; i += 4) {
    out += names.slice(i, i + 4).map((n) => `  ${n.padStart(4)} ${hex(s.registers[n])}`).join('') + '\n';
  }
  out += '\ncall stack\n';
  s.stack.forEach((f, i) => { out += `  #${i} ${where(info, f.pc)}\n`; });
  return out;
}

export async function seekCommand(argv: string[], write: (s: string) => void = (s) => { process.stdout.write(s); }): Promise<number> {
  const { values, positionals } = parse(argv, { elf: { type: 'string' }, json: { type: 'boolean' } }, SEEK_USAGE);
  if (positionals.length !== 2) throw new RewindError('USAGE', `expected a recording and an instruction count (usage: ${SEEK_USAGE})`);
  const { tt, info } = openForSeek(positionals[0], values.elf as string | undefined);
  const target = intOption(positionals[1], 'ICOUNT', 0);
  if (target > tt.endIcount) throw new RewindError('USAGE', `icount ${target} is past the end of the recording (${tt.endIcount})`);
  tt.seek(target);
  const s = machineState(tt, info);
  write(values.json ? JSON.stringify(s, null, 1) + '\n' : printState(s, info));
  return 0;
}

export async function lastWriteCommand(argv: string[], write: (s: string) => void = (s) => { process.stdout.write(s); }): Promise<number> {
  const { values, positionals } = parse(argv, { elf: { type: 'string' }, json: { type: 'boolean' }, before: { type: 'string' } }, LAST_WRITE_USAGE);
  if (positionals.length !== 2) throw new RewindError('USAGE', `expected a recording and an address (usage: ${LAST_WRITE_USAGE})`);
  const { tt, info } = openForSeek(positionals[0], values.elf as string | undefined);
  const [a, l] = positionals[1].split(':');
  // A symbol (a variable or a function), else a number; a symbol's size is the default length.
  const symbol = info.elf.symbols.find((x) => x.name === a && x.shndx !== 0);
  const sym = symbol?.value;
  const number = /^(0x[0-9a-f]+|\d+)$/i.test(a) ? Number(a) : undefined;
  if (sym === undefined && (number === undefined || number > 0xffffffff)) throw new RewindError('USAGE', `'${a}' is neither an address nor a symbol of the guest`);
  const addr = sym ?? number!;
  const len = l === undefined ? (symbol?.size || 4) : intOption(l, 'LEN', 4, 1, 1 << 30);
  const before = values.before === undefined ? tt.endIcount : Math.min(intOption(values.before, 'before', 0), tt.endIcount);
  tt.seek(before);
  const hit = tt.lastWrite(addr, addr + len, before);
  const range = `${hex(addr)}..${hex(addr + len)}${sym !== undefined ? ` (${a})` : ''}`;
  if (!hit) {
    write(values.json ? JSON.stringify({ range: [addr, addr + len], before, write: null }) + '\n' : `no write to ${range} before icount ${before}\n`);
    return 0;
  }
  const s = machineState(tt, info);
  if (values.json) write(JSON.stringify({ range: [addr, addr + len], before, write: { icount: hit.icount, pc: hit.pc, state: s } }, null, 1) + '\n');
  else write(`last write to ${range} before icount ${before}: icount ${hit.icount} (the store is the next instruction)\n` + printState(s, info));
  return 0;
}
