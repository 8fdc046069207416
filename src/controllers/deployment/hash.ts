// The pod-template-hash (upstream controller.ComputeHash): FNV-32a over the pod template, then the collision
// count as 4 little-endian bytes in an 8-byte buffer, the decimal of the sum rendered with rand.SafeEncodeString.
// Upstream feeds FNV the template as printed by go-spew (`%#v` of the Go struct, every field, sorted map keys);
// reproducing Go's struct printing byte for byte would need every PodSpec field's Go type, so k8ts hashes the
// canonical JSON of the template instead (keys sorted, nulls and empty maps/lists dropped). The hash is stable
// and changes exactly when the template does, but the 5–10 characters differ from upstream's for the same template.

/** Upstream util/rand alphanums: no vowels, so no words. */
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

export function safeEncodeString(s: string): string {
  let out = '';
  for (const ch of s) out += ALPHANUMS[ch.codePointAt(0)! % ALPHANUMS.length];
  return out;
}

export function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Drops nulls and empty objects/arrays, sorts keys: two templates equal as Go structs give the same text. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const c = canonical((v as Record<string, unknown>)[k]);
      if (c === null || c === undefined) continue;
      if (typeof c === 'object' && (Array.isArray(c) ? c.length === 0 : Object.keys(c).length === 0)) continue;
      out[k] = c;
    }
    return out;
  }
  return v;
}

export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(JSON.stringify(canonical(template))));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}
