// Bounded protobuf wire reader over a Buffer: varints, fixed values, length-delimited slices and skipping unknown
// fields. Errors carry the wording of gogo-protobuf's generated Unmarshal code, which the API server reports.

export class WireError extends Error {}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

const UNEXPECTED_EOF = 'unexpected EOF';
const TWO_32 = 4294967296;

export class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as its low and high 32 bits (both unsigned). */
  varintParts(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError(UNEXPECTED_EOF);
      const b = this.buf[this.pos++];
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new WireError('proto: integer overflow');
  }

  /** A varint known to be small (tags, lengths): exact up to 2^53. */
  uvarint(): number {
    const [lo, hi] = this.varintParts();
    return hi * TWO_32 + lo;
  }

  /** Length prefix of a length-delimited field; returns the end offset of its payload. */
  lengthEnd(): number {
    const [lo, hi] = this.varintParts();
    if (hi & 0x80000000) throw new WireError('proto: negative length found during unmarshaling');
    const len = hi * TWO_32 + lo;
    const end = this.pos + len;
    if (end > this.end) throw new WireError(UNEXPECTED_EOF);
    return end;
  }

  string(): string {
    const end = this.lengthEnd();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }

  bytes(): Buffer {
    const end = this.lengthEnd();
    const b = this.buf.subarray(this.pos, end);
    this.pos = end;
    return b;
  }

  fixed32(): Buffer {
    if (this.pos + 4 > this.end) throw new WireError(UNEXPECTED_EOF);
    const b = this.buf.subarray(this.pos, this.pos + 4);
    this.pos += 4;
    return b;
  }

  fixed64(): Buffer {
    if (this.pos + 8 > this.end) throw new WireError(UNEXPECTED_EOF);
    const b = this.buf.subarray(this.pos, this.pos + 8);
    this.pos += 8;
    return b;
  }

  /** Read a tag: [field number, wire type]. `owner` names the message in errors. */
  tag(owner: string): [number, number] {
    const [lo, hi] = this.varintParts();
    const wire = lo & 7;
    const num = hi * (TWO_32 / 8) + (lo >>> 3);
    if (wire === WIRE_END_GROUP) throw new WireError(`proto: ${owner}: wiretype end group for non-group`);
    if (num <= 0 || num > 0x7fffffff) throw new WireError(`proto: ${owner}: illegal tag ${num} (wire type ${wire})`);
    return [num, wire];
  }

  /** Skip one field's value of the given wire type (groups included, as gogo's skipGenerated does). */
  skip(wire: number, depth = 0): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varintParts();
        return;
      case WIRE_FIXED64:
        this.fixed64();
        return;
      case WIRE_BYTES:
        this.pos = this.lengthEnd();
        return;
      case WIRE_FIXED32:
        this.fixed32();
        return;
      case WIRE_START_GROUP: {
        if (depth > 64) throw new WireError('proto: groups nested too deeply');
        for (;;) {
          if (this.atEnd()) throw new WireError(UNEXPECTED_EOF);
          const [lo] = this.varintParts();
          const w = lo & 7;
          if (w === WIRE_END_GROUP) return;
          this.skip(w, depth + 1);
        }
      }
      case WIRE_END_GROUP:
        throw new WireError('proto: unexpected end group');
      default:
        throw new WireError(`proto: illegal wireType ${wire}`);
    }
  }
}

/** Signed 64-bit value of a varint's parts (precise up to 2^53). */
export function int64Of([lo, hi]: [number, number]): number {
  if (hi & 0x80000000) return -((~hi >>> 0) * TWO_32 + (~lo >>> 0) + 1);
  return hi * TWO_32 + lo;
}

export function uint64Of([lo, hi]: [number, number]): number {
  return hi * TWO_32 + lo;
}

/** ZigZag-decoded signed 64-bit value. */
export function sint64Of([lo, hi]: [number, number]): number {
  const v = (BigInt(hi) << 32n) | BigInt(lo);
  return Number((v >> 1n) ^ -(v & 1n));
}
