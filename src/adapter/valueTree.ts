import type { DebugProtocol } from '@vscode/debugprotocol';
import type { SourceView } from '../../emulator/debuginfo/sourceView';
import { CType, sizeOf, strip, typeName } from '../../emulator/debuginfo/dwarfTypes';
import { memberValue } from '../../emulator/debuginfo/valueFormat';
import { memoryValue, subValue, Value } from '../../emulator/debuginfo/values';
import type { FrameContext } from '../../emulator/debuginfo/values';
import { hex } from './breakpoints';

/** Arrays longer than this are shown in groups of this many elements. */
const PAGE = 100;

/** A value in the Variables view: what it shows, and how to get its children. */
export interface TreeItem {
  name: string;
  value: Value;
  /** The expression that names it (for watches, data breakpoints, "Copy as Expression"). */
  evaluateName?: string;
  /** An array page: elements [from, to). */
  page?: { from: number; to: number };
}

/**
 * Values as a tree for DAP's Variables view: structs and unions expand to their members, arrays
 * to their elements (long ones in pages of 100), pointers to what they point at; each with gdb's
 * text for its value, its C type, and a memoryReference where it lives in memory.
 */
export class ValueTree {
  constructor(private readonly source: SourceView, private readonly frame: FrameContext, private readonly ref: (children: () => TreeItem[]) => number) {}

  private read = (a: number, n: number) => this.frame.read(a, n);

  variable(item: TreeItem): DebugProtocol.Variable {
    const v = item.value;
    if (item.page) {
      return { name: `[${item.page.from}..${item.page.to - 1}]`, value: '', variablesReference: this.ref(() => this.elements(item, item.page!.from, item.page!.to)) };
    }
    const children = this.hasChildren(v) ? this.ref(() => this.children(item)) : 0;
    const out: DebugProtocol.Variable = {
      name: item.name, value: this.source.format(v, { read: this.read }), type: typeName(v.type), variablesReference: children,
      ...(item.evaluateName ? { evaluateName: item.evaluateName } : {}),
    };
    const addr = v.address ?? this.pointerValue(v);
    if (addr !== undefined) out.memoryReference = hex(addr);
    const t = strip(v.type);
    if (t.kind === 'array' && (t.count ?? 0) > PAGE) out.indexedVariables = t.count;
    return out;
  }

  private pointerValue(v: Value): number | undefined {
    if (strip(v.type).kind !== 'pointer' || !v.bytes || v.bytes.length < 4) return undefined;
    return (v.bytes[0] | (v.bytes[1] << 8) | (v.bytes[2] << 16) | (v.bytes[3] << 24)) >>> 0;
  }

  private hasChildren(v: Value): boolean {
    if (!v.bytes && v.address === undefined) return false;
    const t = strip(v.type);
    if (t.kind === 'struct' || t.kind === 'union') return t.members.length > 0 && !!v.bytes;
    if (t.kind === 'array') return (t.count ?? 0) > 0 && !!v.bytes;
    if (t.kind === 'pointer') {
      const target = strip(t.target);
      return target.kind !== 'void' && target.kind !== 'function' && this.pointerValue(v) !== 0 && !!v.bytes;
    }
    return false;
  }

  children(item: TreeItem): TreeItem[] {
    const v = item.value;
    const t = strip(v.type);
    const path = item.evaluateName;
    if (t.kind === 'struct' || t.kind === 'union') {
      return t.members.map((m, i) => ({ name: m.name ?? `<anonymous ${i}>`, value: memberValue(v, m), evaluateName: path && m.name ? `${wrap(path)}.${m.name}` : undefined }));
    }
    if (t.kind === 'array') {
      const n = t.count ?? 0;
      if (n <= PAGE) return this.elements(item, 0, n);
      const pages: TreeItem[] = [];
      for (let from = 0; from < n; from += PAGE) pages.push({ name: '', value: v, evaluateName: path, page: { from, to: Math.min(n, from + PAGE) } });
      return pages;
    }
    if (t.kind === 'pointer') {
      const target: CType = t.target;
      const a = this.pointerValue(v)!;
      return [{ name: `*${item.name}`, value: memoryValue(target, a, this.frame), evaluateName: path ? `*${wrap(path)}` : undefined }];
    }
    return [];
  }

  /** Elements [from, to) of an array value. */
  elements(item: TreeItem, from: number, to: number): TreeItem[] {
    const t = strip(item.value.type);
    if (t.kind !== 'array') return [];
    const es = sizeOf(t.element);
    const out: TreeItem[] = [];
    for (let i = from; i < to; i++) out.push({ name: `[${i}]`, value: subValue(item.value, t.element, i * es), evaluateName: item.evaluateName ? `${wrap(item.evaluateName)}[${i}]` : undefined });
    return out;
  }
}

/** An expression as a prefix of a longer one: parenthesised unless it is a plain path. */
function wrap(e: string): string {
  return /^[A-Za-z_][\w.[\]]*$/.test(e) ? e : `(${e})`;
}
