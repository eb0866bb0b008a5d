/**
 * Rate-limited warnings: a flood of the same warning (one per rejected message of a garbage
 * stream) becomes one line per `intervalMs` per key, carrying how many were suppressed since
 * the last one. 10,000 rejected messages in a second log one line, not 10,000.
 */

/** The part of a logger (pino's `warn(obj, msg)`) the limiter writes to. */
export interface WarnSink {
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** Options of {@link rateLimitedWarn}. */
export interface RateLimitOptions {
  /** At most one line per key in this window, ms (default 10,000). */
  readonly intervalMs?: number;
  /** The time, epoch ms (default `Date.now`). */
  readonly now?: () => number;
  /** Keys remembered at once; the oldest is forgotten past it (default 1,000). */
  readonly maxKeys?: number;
}

/**
 * A warn function that logs the first warning of each key (the message by default) and then
 * at most one per `intervalMs`, adding `suppressed: n` (the warnings dropped since the last
 * line) when there were any.
 */
export function rateLimitedWarn(
  sink: WarnSink,
  options: RateLimitOptions = {},
): (obj: Record<string, unknown>, msg: string, key?: string) => void {
  const intervalMs = options.intervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 1000;
  const windows = new Map<string, { until: number; suppressed: number }>();
  return (obj, msg, key = msg) => {
    const t = now();
    const window = windows.get(key);
    if (window && t < window.until) {
      window.suppressed += 1;
      return;
    }
    const suppressed = window?.suppressed ?? 0;
    windows.delete(key);
    if (windows.size >= maxKeys) {
      const oldest = windows.keys().next().value;
      if (oldest !== undefined) windows.delete(oldest);
    }
    windows.set(key, { until: t + intervalMs, suppressed: 0 });
    sink.warn(suppressed > 0 ? { ...obj, suppressed } : obj, msg);
  };
}
