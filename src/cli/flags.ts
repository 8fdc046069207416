// Minimal GNU-style flag parsing for subcommands (`--name value`, `--name=value`, booleans).

export interface FlagSpec {
  [name: string]: { type: 'string' | 'number' | 'boolean'; default?: string | number | boolean; help: string };
}

export type FlagValues<S extends FlagSpec> = { [K in keyof S]: S[K]['type'] extends 'number' ? number : S[K]['type'] extends 'boolean' ? boolean : string };

export class FlagError extends Error {}

export function parseFlags<S extends FlagSpec>(spec: S, argv: string[]): FlagValues<S> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) if (v.default !== undefined) out[k] = v.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') throw new FlagError('help');
    if (!a.startsWith('--')) throw new FlagError(`unexpected argument "${a}"`);
    let [name, value] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const s = spec[name];
    if (!s) throw new FlagError(`unknown flag: --${name}`);
    if (s.type === 'boolean') {
      out[name] = value === undefined ? true : value !== 'false';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new FlagError(`flag needs an argument: --${name}`);
    }
    if (s.type === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new FlagError(`invalid argument "${value}" for --${name}: not a number`);
      out[name] = n;
    } else out[name] = value;
  }
  return out as FlagValues<S>;
}

export function flagHelp(spec: FlagSpec): string {
  return Object.entries(spec)
    .map(([k, v]) => `  --${k}${v.type === 'boolean' ? '' : ' ' + v.type}\t${v.help}${v.default !== undefined && v.default !== '' ? ` (default ${String(v.default)})` : ''}`)
    .join('\n');
}

/** Parses a Go-style duration ("40s", "500ms", "2m", "1h30m", "1.5s") into milliseconds. */
export function parseDuration(s: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  if (s === '0') return 0;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos === 0 || pos !== s.length) throw new FlagError(`invalid duration "${s}" (want e.g. 40s, 500ms, 2m)`);
  return total;
}
