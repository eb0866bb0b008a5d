/**
 * Seedable randomness for the learning layer: every draw goes through a `Random` passed in,
 * so a decision is reproducible from its seed. Pure.
 */

/** A source of uniform numbers in [0, 1), like `Math.random`. */
export type Random = () => number;

/**
 * A seeded uniform generator: mulberry32 (T. Ettinger, 2017), 32-bit state, period 2^32.
 * @param seed - any integer (taken modulo 2^32)
 * @example
 * const random = seededRandom(42);
 * random(); // the same first value for seed 42 every time
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller transform, Box & Muller 1958). */
export function sampleNormal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A Gamma(shape, 1) draw: Marsaglia & Tsang, "A simple method for generating gamma variables"
 * (ACM TOMS 26(3), 2000); shape < 1 through the boost Gamma(a) = Gamma(a + 1) · U^(1/a).
 * @param shape - > 0
 */
export function sampleGamma(shape: number, random: Random): number {
  if (shape < 1) return sampleGamma(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * A Beta(alpha, beta) draw, as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta).
 * @param alpha - > 0
 * @param beta - > 0
 * @returns a number in 0..1
 */
export function sampleBeta(alpha: number, beta: number, random: Random): number {
  const x = sampleGamma(alpha, random);
  const y = sampleGamma(beta, random);
  return x / (x + y);
}
