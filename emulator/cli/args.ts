import { parseArgs, ParseArgsConfig } from 'util';
import { RewindError } from '../errors';

type Options = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs with its errors turned into one-line usage errors. */
export function parse(argv: string[], options: Options, usage: string): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    // Node's messages run on ("To specify a positional argument starting with a '-' ..."):
    // keep their first sentence.
    const first = (e as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new RewindError('USAGE', `${first} (usage: ${usage})`);
  }
}

/** A non-negative integer option (decimal, hex 0x, or with _ separators). */
export function intOption(v: string | boolean | undefined, name: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  const s = String(v).replace(/_/g, '');
  const n = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new RewindError('USAGE', `--${name} needs an integer from ${min} to ${max}, not '${v}'`);
  return n;
}
