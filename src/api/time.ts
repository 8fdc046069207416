// Kubernetes timestamps (metav1.Time on the wire): RFC 3339 in UTC with second precision, e.g.
// "2026-12-04T02:50:00Z", as every component writes them.

/** The RFC 3339 second-precision form of a time in ms since the epoch (default: now). */
export const rfc3339 = (ms: number = Date.now()): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** RFC 3339 with microseconds, as metav1.MicroTime serialises (Lease renewTime). */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
