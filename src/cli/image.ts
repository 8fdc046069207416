// `k8ts image import|ls|rm|pull`: the node's image store from the command line (the air-gapped path), on the same
// `<data-dir>/images` the server's kubelet uses; output shaped like crictl's.

import { resolve, join } from 'node:path';
import type { Image } from '../runtime/interface.js';
import { LocalImageService } from '../images/service.js';
import { parsePlatform } from '../images/oci.js';
import { FlagError, type FlagSpec, flagHelp, parseFlags } from './flags.js';

const FLAGS = {
  'data-dir': { type: 'string', default: '/var/lib/k8ts', help: 'the server\'s data directory (images live in <data-dir>/images)' },
  quiet: { type: 'boolean', default: false, help: 'ls: print image IDs only' },
  creds: { type: 'string', default: '', help: 'pull: registry credentials USERNAME[:PASSWORD]' },
  platform: { type: 'string', default: '', help: 'pull/import: os/arch[/variant] to resolve multi-platform images for (default: this node\'s)' },
} satisfies FlagSpec;

const USAGE = `Usage: k8ts image <command> [flags]

Commands:
  import FILE...   Import OCI-layout or docker-archive tars (docker save)
  ls               List images (IMAGE TAG IMAGE ID SIZE)
  rm REF...        Remove images by tag, digest or ID
  pull REF         Pull an image from a registry

Flags:
${flagHelp(FLAGS)}`;

/** Splits flags from positional arguments (flags may come anywhere). */
function splitArgs(argv: string[]): { flags: string[]; args: string[] } {
  const flags: string[] = [];
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-q') flags.push('--quiet');
    else if (a === '-h') flags.push('--help');
    else if (a.startsWith('--')) {
      flags.push(a);
      const name = a.slice(2).split('=')[0]!;
      const spec = (FLAGS as FlagSpec)[name];
      if (spec && spec.type !== 'boolean' && !a.includes('=') && i + 1 < argv.length) flags.push(argv[++i]!);
    } else args.push(a);
  }
  return { flags, args };
}

/** go-units HumanSize (4 significant digits, decimal units), as crictl prints sizes. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(4))}${units[i]}`;
}

/** Go text/tabwriter with crictl's settings (minwidth 20, padding 3); the last column is not padded. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length + 3, 20)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('')).join('\n');
}

export function imageRows(images: Image[]): string[][] {
  const rows: string[][] = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']];
  for (const img of images) {
    const id = img.id.replace(/^sha256:/, '').slice(0, 13);
    const size = humanSize(img.size);
    if (img.repoTags.length > 0) {
      for (const t of img.repoTags) {
        const i = t.lastIndexOf(':');
        rows.push([t.slice(0, i), t.slice(i + 1), id, size]);
      }
    } else if (img.repoDigests.length > 0) {
      for (const d of img.repoDigests) rows.push([d.slice(0, d.indexOf('@')), '<none>', id, size]);
    } else rows.push(['<none>', '<none>', id, size]);
  }
  return rows;
}

/** Runs `k8ts image …`; errors print as one line and exit non-zero (2 for usage errors). */
export async function runImage(argv: string[]): Promise<void> {
  try {
    await imageCommand(argv);
  } catch (e) {
    console.error(`k8ts image: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode ||= 1;
  }
}

async function imageCommand(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    console.log(USAGE);
    return;
  }
  const { flags, args } = splitArgs(rest);
  let f;
  try {
    f = parseFlags(FLAGS, flags);
  } catch (e) {
    if (e instanceof FlagError && e.message === 'help') {
      console.log(USAGE);
      return;
    }
    if (e instanceof FlagError) throw usage(e.message);
    throw e;
  }
  const platform = f.platform ? parsePlatform(f.platform) : undefined;
  const svc = await LocalImageService.open(join(resolve(f['data-dir']), 'images'), platform ? { platform } : {});
  switch (cmd) {
    case 'import': {
      if (args.length === 0) throw usage('import needs at least one FILE');
      for (const file of args) {
        const images = await svc.importImage(resolve(file));
        for (const img of images) console.log(`Imported ${img.repoTags[0] ?? img.repoDigests[0] ?? '<none>'} (${img.id})`);
      }
      return;
    }
    case 'ls':
    case 'list':
    case 'images': {
      const images = await svc.listImages();
      if (f.quiet) {
        for (const img of images) console.log(img.id);
        return;
      }
      console.log(table(imageRows(images)));
      return;
    }
    case 'rm':
    case 'rmi': {
      if (args.length === 0) throw usage('rm needs at least one REF');
      let failed = false;
      for (const ref of args) {
        if (!(await svc.imageStatus(ref))) {
          console.error(`k8ts image: no such image ${ref} present`);
          failed = true;
          continue;
        }
        await svc.store.removeImage(ref);
        console.log(`Deleted: ${ref}`);
      }
      if (failed) process.exitCode = 1;
      return;
    }
    case 'pull': {
      if (args.length !== 1) throw usage('pull needs one REF');
      const [username, ...pw] = f.creds ? f.creds.split(':') : [];
      const img = await svc.pullImage(args[0]!, username !== undefined ? { username, password: pw.join(':') } : undefined);
      console.log(`Image is up to date for ${img.id}`);
      return;
    }
    default:
      throw usage(`unknown command "${cmd}"`);
  }
}

function usage(msg: string): Error {
  process.exitCode = 2;
  return new FlagError(`${msg}\n\n${USAGE}`);
}
