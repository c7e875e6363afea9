import { RewindError } from '../errors';

/** A parsed C expression, as a debugger's watch, hover, console and conditions write them. */
export type Expr =
  | { k: 'num'; value: bigint; unsigned: boolean; long: boolean }
  | { k: 'char'; value: number }
  | { k: 'str'; value: string }
  | { k: 'id'; name: string }
  | { k: 'reg'; name: string }
  | { k: 'unary'; op: string; e: Expr }
  | { k: 'binary'; op: string; a: Expr; b: Expr }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr }
  | { k: 'cast'; type: TypeSpec; e: Expr }
  | { k: 'sizeof'; type?: TypeSpec; e?: Expr }
  | { k: 'index'; e: Expr; i: Expr }
  | { k: 'member'; e: Expr; name: string; arrow: boolean };

/** A type name in a cast or sizeof: `unsigned int`, `struct foo *`, `uint32_t[4]`. */
export interface TypeSpec {
  base: string[];
  pointers: number;
  arrays: number[];
}

const fail = (msg: string): never => {
  throw new RewindError('EVAL', msg);
};

const PUNCT = ['<<=', '>>=', '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '+', '-', '*', '/', '%', '<', '>', '&', '|', '^', '~', '!', '?', ':', '(', ')', '[', ']', '.', ','];
const TYPE_WORDS = new Set(['unsigned', 'signed', 'int', 'char', 'short', 'long', 'void', 'float', 'double', '_Bool', 'const', 'volatile', 'struct', 'union', 'enum']);

interface Tok { t: 'num' | 'char' | 'str' | 'id' | 'reg' | 'p' | 'end'; v: string; at: number }

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    const at = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)([uUlL]*)/.exec(src.slice(i));
      if (!m || /^[0-9]*\.[0-9]/.test(src.slice(i))) fail(`Invalid number "${src.slice(i).split(/[^\w.]/)[0]}".`);
      out.push({ t: 'num', v: m![0], at });
      i += m![0].length;
      if (/[\w]/.test(src[i] ?? '')) fail(`Invalid number "${src.slice(at).split(/[^\w]/)[0]}".`);
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          const n = src[j + 1];
          const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', e: '\x1b' };
          if (n === undefined) fail('Unterminated string in expression.');
          if (/[0-7]/.test(n)) {
            const m = /^[0-7]{1,3}/.exec(src.slice(j + 1))![0];
            text += String.fromCharCode(parseInt(m, 8));
            j += 1 + m.length;
            continue;
          }
          if (n === 'x') {
            const m = /^[0-9a-fA-F]+/.exec(src.slice(j + 2));
            if (!m) fail('\\x escape without a following hex digit');
            text += String.fromCharCode(parseInt(m![0], 16) & 0xff);
            j += 2 + m![0].length;
            continue;
          }
          text += esc[n] ?? n;
          j += 2;
        } else text += src[j++];
      }
      if (j >= src.length) fail(c === "'" ? 'Unmatched single quote.' : 'Unterminated string in expression.');
      if (c === "'" && text.length !== 1) fail(text.length ? 'Invalid character constant.' : 'Empty character constant.');
      out.push({ t: c === "'" ? 'char' : 'str', v: text, at });
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const m = /^\$[A-Za-z_0-9]*/.exec(src.slice(i))![0];
      out.push({ t: 'reg', v: m.slice(1), at });
      i += m.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z_0-9]*/.exec(src.slice(i))![0];
      out.push({ t: 'id', v: m, at });
      i += m.length;
      continue;
    }
    const p = PUNCT.find((x) => src.startsWith(x, i));
    if (!p) fail(`Invalid character '${c}' in expression.`);
    if (p === '++' || p === '--' || p === '<<=' || p === '>>=') fail('Assignments and side effects are not allowed in expressions.');
    out.push({ t: 'p', v: p!, at });
    i += p!.length;
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

const BINARY: [string[], number][] = [
  [['||'], 1], [['&&'], 2], [['|'], 3], [['^'], 4], [['&'], 5], [['==', '!='], 6], [['<', '>', '<=', '>='], 7], [['<<', '>>'], 8], [['+', '-'], 9], [['*', '/', '%'], 10],
];

/**
 * Parses a C expression (no assignments or calls: a debugger's expressions must not change the
 * guest). `isType(name)` says whether an identifier names a type (typedefs), for casts.
 */
export function parseExpression(src: string, isType: (name: string) => boolean): Expr {
  if (src.length > 4096) fail('Expression too long.');
  const toks = lex(src);
  let p = 0;
  const peek = () => toks[p];
  const next = () => toks[p++];
  const eat = (v: string) => {
    if (peek().t === 'p' && peek().v === v) { p++; return true; }
    return false;
  };
  const expect = (v: string) => {
    if (!eat(v)) fail(peek().t === 'end' ? 'A syntax error in expression, near `\'.' : `A syntax error in expression, near \`${src.slice(peek().at)}'.`);
  };
  let depth = 0;
  const startsType = (): boolean => {
    const t = toks[p + 1];
    return t !== undefined && t.t === 'id' && (TYPE_WORDS.has(t.v) || isType(t.v));
  };
  const typeSpec = (): TypeSpec => {
    const base: string[] = [];
    while (peek().t === 'id' && (TYPE_WORDS.has(peek().v) || (isType(peek().v) && !base.some((b) => !TYPE_WORDS.has(b) || b === 'struct' || b === 'union' || b === 'enum')))) {
      const w = next().v;
      base.push(w);
      if (w === 'struct' || w === 'union' || w === 'enum') {
        if (peek().t !== 'id') fail(`A syntax error in expression, near \`${src.slice(peek().at)}'.`);
        base.push(next().v);
      }
    }
    if (!base.length) fail(`A syntax error in expression, near \`${src.slice(peek().at)}'.`);
    let pointers = 0;
    for (;;) {
      if (eat('*')) pointers++;
      else if (peek().t === 'id' && (peek().v === 'const' || peek().v === 'volatile')) next();
      else break;
    }
    const arrays: number[] = [];
    while (eat('[')) {
      const n = next();
      if (n.t !== 'num') fail('A syntax error in expression: an array type needs a size.');
      arrays.push(Number(BigInt(n.v.replace(/[uUlL]+$/, ''))));
      expect(']');
    }
    return { base, pointers, arrays };
  };
  const primary = (): Expr => {
    const t = next();
    switch (t.t) {
      case 'num': {
        const suffix = /[uUlL]*$/.exec(t.v)![0].toLowerCase();
        const digits = t.v.slice(0, t.v.length - suffix.length);
        const value = digits.startsWith('0b') || digits.startsWith('0B') ? BigInt('0b' + digits.slice(2)) : /^0[0-7]+$/.test(digits) ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
        if (value >= 1n << 64n) fail('Numeric constant too large.');
        return { k: 'num', value, unsigned: suffix.includes('u'), long: suffix.includes('ll') || value > 0xffffffffn };
      }
      case 'char': return { k: 'char', value: t.v.charCodeAt(0) };
      case 'str': return { k: 'str', value: t.v };
      case 'reg': return { k: 'reg', name: t.v };
      case 'id':
        if (TYPE_WORDS.has(t.v) && t.v !== 'sizeof') fail(`A syntax error in expression, near \`${src.slice(t.at)}'.`);
        return { k: 'id', name: t.v };
      case 'p':
        if (t.v === '(') {
          const e = expr();
          expect(')');
          return e;
        }
        return fail(`A syntax error in expression, near \`${src.slice(t.at)}'.`);
      default:
        return fail('A syntax error in expression, near `\'.');
    }
  };
  const postfix = (): Expr => {
    let e = primary();
    for (;;) {
      if (eat('[')) {
        const i = expr();
        expect(']');
        e = { k: 'index', e, i };
      } else if (peek().t === 'p' && (peek().v === '.' || peek().v === '->')) {
        const arrow = next().v === '->';
        const n = next();
        if (n.t !== 'id') fail(`A syntax error in expression, near \`${src.slice(n.at)}'.`);
        e = { k: 'member', e, name: n.v, arrow };
      } else if (peek().t === 'p' && peek().v === '(' ) {
        fail('Calling functions in the guest is not supported (it would change the recording).');
      } else return e;
    }
  };
  const unary = (): Expr => {
    if (++depth > 200) fail('Expression nested too deeply.');
    try {
      const t = peek();
      if (t.t === 'p' && ['-', '+', '~', '!', '*', '&'].includes(t.v)) {
        next();
        return { k: 'unary', op: t.v, e: unary() };
      }
      if (t.t === 'id' && t.v === 'sizeof') {
        next();
        if (peek().t === 'p' && peek().v === '(' && startsType()) {
          next();
          const type = typeSpec();
          expect(')');
          return { k: 'sizeof', type };
        }
        return { k: 'sizeof', e: unary() };
      }
      if (t.t === 'p' && t.v === '(' && startsType()) {
        next();
        const type = typeSpec();
        expect(')');
        return { k: 'cast', type, e: unary() };
      }
      return postfix();
    } finally {
      depth--;
    }
  };
  const binary = (level: number): Expr => {
    if (level >= BINARY.length) return unary();
    let a = binary(level + 1);
    for (;;) {
      const t = peek();
      if (t.t !== 'p' || !BINARY[level][0].includes(t.v)) return a;
      next();
      a = { k: 'binary', op: t.v, a, b: binary(level + 1) };
    }
  };
  const expr = (): Expr => {
    if (++depth > 200) fail('Expression nested too deeply.');
    try {
      const c = binary(0);
      if (eat('?')) {
        const a = expr();
        expect(':');
        return { k: 'cond', c, a, b: expr() };
      }
      return c;
    } finally {
      depth--;
    }
  };
  if (toks.length === 1) fail('An expression is needed.');
  const e = expr();
  if (peek().t !== 'end') fail(`A syntax error in expression, near \`${src.slice(peek().at)}'.`);
  return e;
}
