import { createRequire } from 'node:module';
import type * as PinoModule from 'pino';
import type { Logger } from 'pino';
import { z } from 'zod';
import { parseWith } from './validate.js';

/** The level every library logger uses when `ND_LOG_LEVEL` is not set: warnings and errors only. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'warn';

const levelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
/** A pino level, or `silent`. */
export type LogLevel = z.infer<typeof levelSchema>;

/**
 * The level of library loggers: `ND_LOG_LEVEL` (one of pino's levels, or `silent`), else
 * `fallback` ({@link DEFAULT_LOG_LEVEL} unless a caller that reports the same events itself,
 * like the `ndf` command, asks for another).
 * @throws PatternValidationError naming `ND_LOG_LEVEL` when it is not a pino level
 */
export function logLevel(
  env: NodeJS.ProcessEnv = process.env,
  fallback: LogLevel = DEFAULT_LOG_LEVEL,
): LogLevel {
  const value = env['ND_LOG_LEVEL'];
  return value === undefined || value === '' ? fallback : parseWith(levelSchema, value, 'ND_LOG_LEVEL');
}

type Pino = typeof PinoModule;
let pinoModule: Pino | undefined;
/** pino, loaded (synchronously, it is CommonJS) by the first logger made, not by importing the library. */
const loadPino = (): Pino => (pinoModule ??= createRequire(import.meta.url)('pino') as Pino);

/**
 * The one factory of the library's loggers (pino, JSON lines on stderr so they never mix with a
 * command's output): quiet by default (level {@link DEFAULT_LOG_LEVEL} unless `ND_LOG_LEVEL`
 * says otherwise), named `name` (`natural-delegation`, `agent:<name>`, `resolver`…). Components
 * bind per-run fields with `logger.child({ runId })`. Pass your own pino logger to
 * PatternExecutor, NatsTransport, serveAgent or serveConflictResolver to integrate with yours.
 * `fallback` replaces the default level for a caller that reports the same events itself (the
 * `ndf` command prints runs and breaker changes, so its executor logs only if `ND_LOG_LEVEL` asks).
 * @throws PatternValidationError when `ND_LOG_LEVEL` is not a pino level
 */
export function createLogger(name = 'natural-delegation', fallback: LogLevel = DEFAULT_LOG_LEVEL): Logger {
  const { pino } = loadPino();
  return pino({ name, level: logLevel(process.env, fallback) }, pino.destination(2));
}

/**
 * A run's logger: a pino child of `base` whose every line carries `runId` (and `pattern`), so a
 * run's lines can be picked out of a shared log (`jq 'select(.runId=="…")'`).
 */
export function runLogger(base: Logger, runId: string, pattern?: string): Logger {
  return base.child(pattern === undefined ? { runId } : { runId, pattern });
}

/**
 * A step's logger: a child of a {@link runLogger} adding `step` and `path` (the pattern names
 * from the run's root to the step's pattern).
 */
export function stepLogger(run: Logger, path: readonly string[], step: string): Logger {
  return run.child({ step, path });
}

/** The library's default logger: {@link createLogger} with the name `natural-delegation`. */
export function defaultLogger(): Logger {
  return createLogger();
}

export type { Logger };
