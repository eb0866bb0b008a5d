import { pino, type Logger } from 'pino';

/**
 * The library's default logger: silent unless `ND_LOG_LEVEL` is set (`info`, `debug`…), so
 * embedding applications decide; pass your own pino logger to PatternExecutor to integrate.
 */
export function defaultLogger(): Logger {
  return pino({ name: 'natural-delegation', level: process.env['ND_LOG_LEVEL'] ?? 'silent' });
}

export type { Logger };
