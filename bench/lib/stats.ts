/** Latency statistics in milliseconds. */
export function summarize(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const pct = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    n: s.length,
    mean: r(mean),
    p50: r(pct(50)),
    p95: r(pct(95)),
    p99: r(pct(99)),
    max: r(s.at(-1) ?? 0),
  };
}

/**
 * Runs `fn` from `concurrency` workers until `count` calls are done or `maxMs` passes (whichever first),
 * returning per-call latencies in ms and the wall time.
 */
export async function load(
  opts: { concurrency: number; count: number; maxMs: number },
  fn: (i: number) => Promise<void>,
) {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + opts.maxMs;
  const worker = async () => {
    while (next < opts.count && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      try {
        await fn(i);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        if (errors <= 3) console.error(err);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const wallMs = performance.now() - started;
  return { latencies, wallMs, errors, perSecond: Math.round((latencies.length / wallMs) * 1000) };
}

/** A small seeded PRNG (mulberry32): the same seed builds the same data set. */
export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
