import { defaultLogger, type Logger } from './logger.js';

/** Where listener errors are logged: any pino-compatible `warn`. */
export type ListenerErrorLog = Pick<Logger, 'warn'>;

let fallbackLog: ListenerErrorLog | undefined;

/**
 * Hands `value` to every listener, in iteration order, isolating each: a listener that throws
 * is logged at `warn` (with `what` naming the listeners and the error under `err`) and the
 * others still run. Nothing is rethrown, so an observer can never fail what it observes
 * (a run, a breaker, a transport). Listeners removed meanwhile are skipped, as a Set iterates.
 *
 * @param log - where errors go; default: the library's default logger (level `warn` unless
 *   `ND_LOG_LEVEL` says otherwise)
 * @param what - what the listeners are, for the log line (e.g. `run event listener`)
 * @param bindings - fields added to the log line (e.g. `{ runId }`)
 * @returns how many listeners threw
 */
export function notifyAll<T>(
  listeners: Iterable<(value: T) => void>,
  value: T,
  log?: ListenerErrorLog,
  what = 'listener',
  bindings: Readonly<Record<string, unknown>> = {},
): number {
  let failures = 0;
  for (const listener of listeners) {
    try {
      listener(value);
    } catch (err) {
      failures += 1;
      (log ?? (fallbackLog ??= defaultLogger())).warn({ ...bindings, err }, `${what} threw; ignored`);
    }
  }
  return failures;
}
