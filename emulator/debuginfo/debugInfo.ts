import { RewindError } from '../errors';
import { CallFrameInfo } from './cfi';
import { LineTable, readLineTable, SourceLocation, Statement } from './dwarfLine';
import { sectionBytes } from './dwarfReader';
import { readCompileUnits } from './dwarfUnits';
import { ElfImage } from './elf';
import { FunctionLocation, SymbolTable } from './symbols';
import { registers, UnwindMethod, Unwinder } from './unwind';
import { SourceView } from './sourceView';

export interface StackFrame {
  /** The innermost frame's pc, else the return address into this frame's function. */
  pc: number;
  sp: number;
  /** Function (or assembly label) from the symbol table; undefined in a stripped ELF. */
  function?: string;
  /** pc's offset from the function's start. */
  offset?: number;
  /** Source position: of pc in the innermost frame, of the call in the others. */
  file?: string;
  line?: number;
  /** How the frame was found from the one below it. */
  method: 'innermost' | UnwindMethod;
}

/**
 * Parses on first use and remembers the outcome, a RewindError included, so a malformed
 * section costs one parse and gives the same one-line error on every query.
 */
class Lazy<T> {
  private done = false;
  private value?: T;
  private error?: RewindError;

  constructor(private readonly make: () => T) {}

  get(): T {
    if (this.error) throw this.error;
    if (!this.done) {
      try {
        this.value = this.make();
      } catch (e) {
        if (!(e instanceof RewindError)) throw e;
        this.error = e;
        throw e;
      }
      this.done = true;
    }
    return this.value as T;
  }
}

/**
 * Source-level information about one ELF: lines, functions, statements and call stacks. Each
 * section is parsed the first time a query needs it. Everything degrades: without .debug_line
 * lines are undefined, without symbols functions are, without .debug_frame call stacks use the
 * frame-pointer chain.
 */
export class DebugInfo {
  readonly symbols: SymbolTable;
  readonly unwinder: Unwinder;
  private readonly lineTable: Lazy<LineTable | undefined>;
  private readonly frames: Lazy<CallFrameInfo>;

  constructor(readonly elf: ElfImage) {
    this.symbols = new SymbolTable(elf);
    this.lineTable = new Lazy(() => {
      const line = sectionBytes(elf, '.debug_line');
      if (!line) return undefined;
      const str = sectionBytes(elf, '.debug_str');
      const lineStr = sectionBytes(elf, '.debug_line_str');
      const info = sectionBytes(elf, '.debug_info');
      const units = info ? readCompileUnits({ info, abbrev: sectionBytes(elf, '.debug_abbrev'), str, lineStr }) : [];
      return readLineTable({ line, str, lineStr }, units);
    });
    this.frames = new Lazy(() => {
      const cfi = CallFrameInfo.fromElf(elf);
      void cfi.fdes; // parse now, so a malformed table fails here and is remembered
      return cfi;
    });
    this.unwinder = new Unwinder(() => this.frames.get(), (a) => this.symbols.isCode(a));
  }

  /** Variables, types and inline frames from .debug_info (read on first use). */
  get source(): SourceView {
    this.sourceView ??= new SourceView(this);
    return this.sourceView;
  }

  private sourceView?: SourceView;

  /** The line table, or undefined when the ELF has no .debug_line. */
  get lines(): LineTable | undefined {
    return this.lineTable.get();
  }

  get frameInfo(): CallFrameInfo {
    return this.frames.get();
  }

  /** Source position of the instruction at `addr`, as addr2line reports it. */
  lineAt(addr: number): SourceLocation | undefined {
    return this.lines?.lookup(addr);
  }

  /** The line a debugger shows for `addr` (gdb's choice where rows share an address; see LineTable.debuggerLineAt). */
  sourceLineAt(addr: number): SourceLocation | undefined {
    return this.lines?.debuggerLineAt(addr);
  }

  functionAt(addr: number): FunctionLocation | undefined {
    return this.symbols.functionAt(addr);
  }

  addressOf(name: string): number | undefined {
    return this.symbols.addressOf(name);
  }

  statementAt(addr: number): Statement | undefined {
    return this.lines?.statementAt(addr);
  }

  /** Sorted addresses where a new line's statement begins: where source-level steps stop. */
  get statementBoundaries(): readonly number[] {
    return this.lines?.statementBoundaries() ?? [];
  }

  isStatementBoundary(addr: number): boolean {
    return this.lines?.isStatementBoundary(addr) ?? false;
  }

  /** Breakpoint addresses for `file`:`line` (see LineTable.addressesFor). */
  addressesFor(file: string, line: number): number[] {
    return this.lines?.addressesFor(file, line) ?? [];
  }

  /**
   * The call stack from the innermost frame outwards, at most `maxFrames` long. The walk stops
   * at the outermost frame (an undefined return address, or no FDE and no frame-pointer chain),
   * at a return address outside code, and where the stack pointer would move down (or stay
   * with the same pc). `readWord` should read RAM only: a corrupt chain can point anywhere, and
   * device registers have side effects.
   */
  callStack(pc: number, x: ArrayLike<number>, readWord: (addr: number) => number, maxFrames = 64): StackFrame[] {
    return this.physicalFrames(pc, x, readWord, maxFrames).map((f) => f.frame);
  }

  /** The call stack with each frame's registers as the unwinder restored them (see callStack). */
  physicalFrames(pc: number, x: ArrayLike<number>, readWord: (addr: number) => number, maxFrames = 64): { frame: StackFrame; regs: number[] }[] {
    const frames: { frame: StackFrame; regs: number[] }[] = [];
    let regs = registers(x);
    let at = pc >>> 0;
    let method: StackFrame['method'] = 'innermost';
    while (frames.length < maxFrames) {
      const callSite = frames.length > 0;
      // A return address is just past the call; the call's own line and function are what a
      // debugger shows for a caller (gdb's "pc - 1" lookup), which also keeps a noreturn call at
      // the very end of a function from being attributed to the next one.
      const where = callSite ? at - 1 : at;
      const fn = this.functionAt(where);
      const loc = this.lineAt(where);
      frames.push({ frame: { pc: at, sp: regs[2], function: fn?.name, offset: fn ? at - fn.address : undefined, file: loc?.file, line: loc?.line, method }, regs });
      const caller = this.unwinder.unwind({ pc: at, x: regs, readWord, callSite });
      if (!caller || caller.pc === 0) break;
      if (this.symbols.code.length > 0 && !this.symbols.isCode(caller.pc)) break;
      // The stack grows down, so callers' frames are never below their callees'. Equal sps are
      // legal (a frameless leaf), but the same pc at the same sp again would loop forever.
      if (caller.sp < regs[2] || (caller.sp === regs[2] && caller.pc === at)) break;
      regs = caller.x;
      at = caller.pc;
      method = caller.method;
    }
    return frames;
  }
}

export function loadDebugInfo(elf: ElfImage): DebugInfo {
  return new DebugInfo(elf);
}
