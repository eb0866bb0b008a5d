import { z } from 'zod';
import type { AgentTask } from '../../../src/actors/agent.js';
import { movieSchema } from './lib/movie.js';
import type { Movie } from './lib/movie.js';
import { maybeFail, resultOf } from './lib/pipeline.js';

const cleaned = z.object({ rows: z.array(movieSchema) });

/** Thresholds of the business rules, in US dollars. */
export const RULES = {
  /** Worldwide gross at or above it: a blockbuster. */
  blockbusterGross: 500_000_000,
  /** Worldwide gross below half the budget: a flop. */
  flopRatio: 0.5,
  /** Budgets below it are too small to report on (micro-budget films skew ROI). */
  minBudget: 100_000,
} as const;

/** apply_business_rules: drops micro-budget films, flags blockbusters, flops and cult hits. */
export async function handler(
  task: AgentTask,
): Promise<{ rows: Movie[]; excluded: number; flagged: Record<string, number> }> {
  maybeFail(task);
  const { rows } = resultOf(task, 'clean_transform', cleaned);
  const kept = rows.filter((movie) => movie.budget >= RULES.minBudget);
  const flagged: Record<string, number> = { blockbuster: 0, flop: 0, cult_hit: 0 };
  const flaggedRows = kept.map((movie) => {
    const flags: string[] = [];
    if (movie.worldwideGross >= RULES.blockbusterGross) flags.push('blockbuster');
    if (movie.worldwideGross < movie.budget * RULES.flopRatio) flags.push('flop');
    if ((movie.imdb ?? 0) >= 8 && movie.worldwideGross < movie.budget) flags.push('cult_hit');
    for (const flag of flags) flagged[flag] = (flagged[flag] ?? 0) + 1;
    return { ...movie, flags };
  });
  return { rows: flaggedRows, excluded: rows.length - kept.length, flagged };
}
