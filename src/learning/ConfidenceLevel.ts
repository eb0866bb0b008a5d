/**
 * Confidence levels, ordered: `LOW < MEDIUM < HIGH` compare as numbers.
 * `fromScore`: score < 0.5 is LOW, 0.5..0.8 MEDIUM, > 0.8 HIGH (the API reference's bands).
 */
export const ConfidenceLevel = {
  LOW: 0,
  MEDIUM: 1,
  HIGH: 2,
  /** @param score - 0..1 */
  fromScore(score: number): ConfidenceLevel {
    if (score > 0.8) return 2;
    if (score >= 0.5) return 1;
    return 0;
  },
  /** `'LOW' | 'MEDIUM' | 'HIGH'`. */
  nameOf(level: ConfidenceLevel): 'LOW' | 'MEDIUM' | 'HIGH' {
    return (['LOW', 'MEDIUM', 'HIGH'] as const)[level];
  },
  /** -1, 0 or 1, for sorting. */
  compare(a: ConfidenceLevel, b: ConfidenceLevel): number {
    return Math.sign(a - b);
  },
} as const;
export type ConfidenceLevel = 0 | 1 | 2;
