// Order statistics of latency samples.

export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted values: the smallest value with at least p of them at or below it. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function distribution(values: ArrayLike<number>): Distribution {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1],
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
  };
}

/** Values grow by pushing into chunks of typed arrays: a million samples cost 8 MB, not a boxed array. */
export class Samples {
  private blocks: Float64Array[] = [];
  private current = new Float64Array(4096);
  private used = 0;

  push(v: number): void {
    if (this.used === this.current.length) {
      this.blocks.push(this.current);
      this.current = new Float64Array(this.current.length * 2);
      this.used = 0;
    }
    this.current[this.used++] = v;
  }

  get length(): number {
    return this.blocks.reduce((a, b) => a + b.length, 0) + this.used;
  }

  toArray(): Float64Array {
    const out = new Float64Array(this.length);
    let at = 0;
    for (const b of this.blocks) {
      out.set(b, at);
      at += b.length;
    }
    out.set(this.current.subarray(0, this.used), at);
    return out;
  }
}
