/**
 * How much an {@link ExecutionTracer} records, from least to most:
 * - `minimal`: the run (start, end, status);
 * - `standard`: + patterns, phases, steps, attempts (agent calls), compensations, retries and
 *   circuit-breaker transitions (as span events);
 * - `detailed`: + waits: an attempt's queue wait (agent slot or open breaker) and lock wait, and
 *   the backoff before each retry;
 * - `debug`: + every machine transition (span events; turns on `traceTransitions`).
 */
export const TraceLevel = {
  MINIMAL: 'minimal',
  STANDARD: 'standard',
  DETAILED: 'detailed',
  DEBUG: 'debug',
} as const;
export type TraceLevel = (typeof TraceLevel)[keyof typeof TraceLevel];

/** The levels in order, for zod enums and comparisons. */
export const TRACE_LEVELS = ['minimal', 'standard', 'detailed', 'debug'] as const;

/** 0 (`minimal`) … 3 (`debug`). */
export function levelRank(level: TraceLevel): number {
  return TRACE_LEVELS.indexOf(level);
}
