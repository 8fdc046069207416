// Watch streams: chunked JSON events (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR) from a revision, with the synthetic
// initial ADDEDs for resourceVersion 0/"", 410 Expired for compacted revisions, timeoutSeconds, bookmarks and
// Table-encoded events for `kubectl get -w`.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { KindDef } from '../api/kinds/types.js';
import type { FieldSelector } from '../api/selectors/fields.js';
import type { Selector } from '../api/selectors/labels.js';
import type { KubeObject } from '../api/types.js';
import { CompactedError, type Watcher } from '../storage/interface.js';
import { fieldSet, type ObjectEvent, type ResourceStore } from './registry/store.js';
import { statusOf } from './status.js';
import { toTable, type IncludeObject } from './table.js';
import { partialObjectMetadata, type Representation } from './negotiate.js';
import { badRequest } from '../api/errors.js';

export interface WatchRequest {
  resources: ResourceStore;
  def: KindDef;
  namespace: string | undefined;
  labelSelector?: Selector;
  fieldSelector?: FieldSelector;
  resourceVersion: string;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  /** Table events, metadata-only events, or (undefined) the objects. */
  representation: Representation;
  includeObject: IncludeObject;
  toServed(obj: KubeObject): KubeObject;
  apiVersion: string;
}

/**
 * Watch event lines by the (shared, read-only) event object and the line's form (event type, plus the metadata-only
 * version if any), encoded once for all the watchers that want the same line: the JSON text and the same text
 * framed as one HTTP/1.1 chunk (what a watcher's socket is sent).
 */
interface Line {
  text: string;
  chunk?: Buffer;
}
const lines = new WeakMap<KubeObject, Partial<Record<string, Line>>>();

function encodedLine(type: string, obj: KubeObject, metadataOnly?: 'v1' | 'v1beta1'): Line {
  let byForm = lines.get(obj);
  if (byForm === undefined) lines.set(obj, (byForm = {}));
  const form = metadataOnly ? `${type} ${metadataOnly}` : type;
  return (byForm[form] ??= { text: JSON.stringify({ type, object: metadataOnly ? partialObjectMetadata(obj, metadataOnly) : obj }) + '\n' });
}

/** `text` as one chunk of a chunked HTTP/1.1 body. */
function chunkOf(text: string): Buffer {
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`, 'latin1'), body, CRLF]);
}
const CRLF = Buffer.from('\r\n', 'latin1');

/** Buffered output above which a client is considered stuck and dropped (it must re-list). */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 60_000;

export async function serveWatch(req: IncomingMessage, res: ServerResponse, w: WatchRequest): Promise<void> {
  const { def } = w;
  const filter = (obj: KubeObject): boolean =>
    (!w.labelSelector || w.labelSelector.matches(obj.metadata.labels)) && (!w.fieldSelector || w.fieldSelector.matches(fieldSet(def, obj)));
  if (w.resourceVersion !== '' && !/^\d+$/.test(w.resourceVersion)) throw badRequest(`Invalid value: "${w.resourceVersion}": resourceVersion must be an integer`);

  let firstTable = true;
  let closed = false;
  let lastRV = 0;
  let watcher: Watcher | undefined;
  const timers: NodeJS.Timeout[] = [];

  const rep = w.representation;
  const encode = (type: string, obj: KubeObject): Line => {
    if (rep?.as === 'Table' && type !== 'BOOKMARK' && type !== 'ERROR') {
      const t = toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion }, w.includeObject, firstTable, rep.version);
      firstTable = false;
      return { text: JSON.stringify({ type, object: t }) + '\n' };
    }
    return encodedLine(type, obj, rep?.as === 'PartialObjectMetadata' ? rep.version : undefined);
  };

  const finish = () => {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t);
    watcher?.close();
    if (!res.writableEnded) res.end();
  };

  // Once the headers are out, events go to the socket as ready-made chunks (framed once per event for all
  // watchers: a fan-out to many watchers is one socket write each and nothing more). res.end() still writes the
  // last chunk. Before that (no socket yet, e.g. behind a pipelined request) res.write frames them.
  let socket: Socket | null = null;
  const writeLine = (l: Line) => {
    if (closed) return;
    if (socket) socket.write((l.chunk ??= chunkOf(l.text)));
    else res.write(l.text);
    if ((socket ? socket.writableLength : res.writableLength) > MAX_BUFFERED_BYTES) finish();
  };
  const write = (text: string) => writeLine({ text });

  const sendEvents = (events: ObjectEvent[]) => {
    if (closed) return;
    const out: Line[] = [];
    for (const ev of events) {
      if (ev.revision <= lastRV) continue;
      lastRV = ev.revision;
      out.push(encode(ev.type, w.toServed(ev.object)));
    }
    // One event (the fan-out case) goes out as its shared chunk; several as one chunk of their own.
    if (out.length === 1) writeLine(out[0]!);
    else if (out.length > 1) write(out.map((l) => l.text).join(''));
  };

  const sendError = (err: unknown) => {
    if (closed) return;
    write(JSON.stringify({ type: 'ERROR', object: statusOf(err) }) + '\n');
    finish();
  };

  res.on('close', finish);

  // Where to start, and the initial state for RV 0/"" (and sendInitialEvents).
  let initial: KubeObject[] = [];
  let from: number;
  const synthetic = w.resourceVersion === '' || w.resourceVersion === '0' || w.sendInitialEvents;
  if (synthetic) {
    const list = await w.resources.list(def, w.namespace, { labelSelector: w.labelSelector, fieldSelector: w.fieldSelector });
    initial = list.items;
    from = Number(list.resourceVersion);
  } else {
    from = Number(w.resourceVersion);
  }
  lastRV = from;

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  // Raw chunks only on a plain HTTP/1.1 response that owns its socket and has sent its headers (not an upgrade).
  if (res.socket && res.headersSent && res.chunkedEncoding && req.httpVersion === '1.1' && !res.writableEnded) socket = res.socket;

  if (initial.length) write(initial.map((o) => encode('ADDED', w.toServed(o)).text).join(''));
  if (w.sendInitialEvents && w.allowBookmarks) {
    write(
      JSON.stringify({
        type: 'BOOKMARK',
        object: { kind: def.kind, apiVersion: w.apiVersion, metadata: { resourceVersion: String(from), annotations: { 'k8s.io/initial-events-end': 'true' } } },
      }) + '\n',
    );
  }

  try {
    watcher = w.resources.watch(def, w.namespace, from, filter, sendEvents, (err) => {
      sendError(err instanceof CompactedError ? err : err);
    });
  } catch (e) {
    sendError(e);
    return;
  }
  if (closed) {
    watcher.close();
    return;
  }

  const timeoutMs = w.timeoutSeconds !== undefined && w.timeoutSeconds > 0 ? w.timeoutSeconds * 1000 : (1800 + Math.random() * 1800) * 1000;
  timers.push(setTimeout(finish, timeoutMs));
  if (w.allowBookmarks) {
    const tick = () => {
      if (closed) return;
      write(JSON.stringify({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion: w.apiVersion, metadata: { resourceVersion: String(lastRV) } } }) + '\n');
      timers.push(setTimeout(tick, BOOKMARK_INTERVAL_MS));
    };
    timers.push(setTimeout(tick, BOOKMARK_INTERVAL_MS));
  }
}
