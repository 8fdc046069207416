// IntOrString values such as maxUnavailable / maxSurge ("25%" or 1) scaled against a total (upstream intstr).

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaledIntOrPercent(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) return /^-?\d+$/.test(v) ? Number(v) : 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}
