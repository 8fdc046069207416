// The node IPAM range allocator's arithmetic (upstream pkg/controller/nodeipam/ipam/cidrset): a cluster CIDR cut
// into per-node blocks of one mask size, handed out lowest first and released on node deletion. Pure, IPv4.

export class CidrSet {
  private readonly base: number;
  private readonly count: number;
  private readonly used: Uint8Array;
  private next = 0;

  constructor(
    readonly clusterCIDR: string,
    readonly nodeMaskSize = 24,
  ) {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(clusterCIDR);
    if (!m) throw new Error(`invalid cluster CIDR "${clusterCIDR}" (want an IPv4 a.b.c.d/n)`);
    const prefix = Number(m[5]);
    if (prefix > nodeMaskSize || nodeMaskSize > 30) throw new Error(`node CIDR mask size /${nodeMaskSize} does not fit in ${clusterCIDR}`);
    const addr = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    this.base = (addr & mask) >>> 0;
    this.count = 2 ** (nodeMaskSize - prefix);
    this.used = new Uint8Array(this.count);
  }

  private static fmt(n: number): string {
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }

  private indexOf(cidr: string): number | undefined {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
    if (!m || Number(m[5]) !== this.nodeMaskSize) return undefined;
    const addr = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
    const off = addr - this.base;
    const size = 2 ** (32 - this.nodeMaskSize);
    if (off < 0 || off % size !== 0 || off / size >= this.count) return undefined;
    return off / size;
  }

  /** The next free block, or undefined when the range is exhausted. */
  allocateNext(): string | undefined {
    for (let k = 0; k < this.count; k++) {
      const i = (this.next + k) % this.count;
      if (this.used[i]) continue;
      this.used[i] = 1;
      this.next = (i + 1) % this.count;
      return `${CidrSet.fmt(this.base + i * 2 ** (32 - this.nodeMaskSize))}/${this.nodeMaskSize}`;
    }
    return undefined;
  }

  /** Marks a block a node already has as taken; false when it is not one of this set's blocks. */
  occupy(cidr: string): boolean {
    const i = this.indexOf(cidr);
    if (i === undefined) return false;
    this.used[i] = 1;
    return true;
  }

  release(cidr: string): void {
    const i = this.indexOf(cidr);
    if (i !== undefined) this.used[i] = 0;
  }
}
