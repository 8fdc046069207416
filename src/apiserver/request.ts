// Request parsing at the HTTP edge: resource paths, query options, body reading with the size limit, and body
// decoding (JSON, YAML, Kubernetes protobuf) into plain objects.

import type { IncomingMessage } from 'node:http';
import { parseDocument } from 'yaml';
import { badRequest, tooLarge, unsupportedMediaType } from '../api/errors.js';

/** Upstream's default max request body size for writes (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface ParsedPath {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
  /** Legacy `/watch/` prefix. */
  watchPrefix: boolean;
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** Parse JSON text with an upstream-like 400 on failure. */
export function parseJSON(text: string, what = 'request body'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`error decoding ${what}: ${(e as Error).message}`);
  }
}

export function parseYAML(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length) throw badRequest(`error decoding YAML: ${doc.errors[0].message}`);
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // e.g. an alias without its anchor (`*a`), or an alias bomb past maxAliasCount
    throw badRequest(`error decoding YAML: ${(e as Error).message}`);
  }
}

/** Decode an object body by its Content-Type (json, yaml, protobuf). */
export async function decodeObjectBody(body: Buffer, contentType: string | undefined, expected?: { apiVersion: string; kind: string }): Promise<unknown> {
  const mt = mediaType(contentType);
  if (body.length === 0) throw badRequest('request body must not be empty');
  switch (mt) {
    case '':
    case 'application/json':
      return parseJSON(body.toString('utf8'));
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      return parseYAML(body.toString('utf8'));
    case 'application/vnd.kubernetes.protobuf':
      // Loaded on first use: protobuf bodies come only from typed clients.
      return (await import('../api/protobuf/index.js')).decodeProtobufObject(body, expected);
    default:
      throw unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
      );
  }
}

/**
 * Split the part of a path after `/api/v1` or `/apis/g/v` into namespace/resource/name/subresource.
 * `isNamespaced(resource)` tells whether `namespaces/<ns>/<x>` addresses a namespaced resource `x`.
 */
export function parseResourceParts(group: string, version: string, parts: string[], isNamespaced: (resource: string) => boolean): ParsedPath | undefined {
  let watchPrefix = false;
  let p = parts;
  if (p[0] === 'watch') {
    watchPrefix = true;
    p = p.slice(1);
  }
  if (p.length === 0) return undefined;
  if (p[0] === 'namespaces' && p.length >= 3 && isNamespaced(p[2])) {
    if (p.length > 5) return undefined;
    return { group, version, namespace: p[1], resource: p[2], name: p[3], subresource: p[4], watchPrefix };
  }
  if (p.length > 3 && p[2] !== 'proxy') return undefined; // nodes/{name}/proxy/{path…}
  return { group, version, resource: p[0], name: p[1], subresource: p[2], watchPrefix };
}
