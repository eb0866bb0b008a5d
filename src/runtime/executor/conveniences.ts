import { PatternError, PatternNotFoundError, PatternTimeoutError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { RunResult } from '../../core/result.js';
import { Semaphore } from '../../core/semaphore.js';
import type { RunOptions } from '../executorOptions.js';
import { PatternContext, type PatternContextInput } from '../PatternContext.js';
import type { DelegationPattern } from '../patterns/DelegationPattern.js';

/** The reference era's boolean conveniences, built on `run`. */

type Ctx = PatternContext | PatternContextInput | undefined;

/** What the conveniences need of the executor. */
export interface Runner {
  run(patternName: string, context: Ctx, options?: RunOptions): Promise<RunResult>;
  selectPattern(context: PatternContext | PatternContextInput): DelegationPattern | undefined;
  readonly threadPoolSize: number;
}

/**
 * Runs a pattern; true if it succeeded, false if it failed.
 * @param timeoutSeconds - overall timeout, seconds
 * @throws PatternTimeoutError when it timed out
 */
export async function executeOnce(
  runner: Runner,
  patternName: string,
  context: Ctx,
  timeoutSeconds?: number,
): Promise<boolean> {
  const result = await runner.run(
    patternName,
    context,
    timeoutSeconds === undefined ? {} : { timeoutMs: Math.round(timeoutSeconds * 1000) },
  );
  if (result.status === 'timedOut') {
    throw new PatternTimeoutError(result.error?.message ?? `Pattern "${patternName}" timed out`, {
      patternName,
      ...(result.error?.details?.timeoutMs === undefined
        ? {}
        : { timeoutMs: result.error.details.timeoutMs }),
    });
  }
  return result.success;
}

/** Runs `primary`; if it fails or cannot run, runs `fallback`. @returns `[success, patternUsed]` */
export async function executeWithFallback(
  runner: Runner,
  logger: Logger,
  primary: string,
  fallback: string,
  context: Ctx,
): Promise<[boolean, string]> {
  try {
    if (await executeOnce(runner, primary, context)) return [true, primary];
  } catch (error) {
    if (!(error instanceof PatternError)) throw error;
    logger.warn({ pattern: primary, err: error }, 'primary pattern could not run; using fallback');
  }
  return [await executeOnce(runner, fallback, context), fallback];
}

/** Runs several patterns, at most `threadPoolSize` at once when `parallel`; one that throws counts as failed. */
export async function batchExecute(
  runner: Runner,
  logger: Logger,
  executions: readonly (readonly [string, Ctx])[],
  parallel: boolean,
): Promise<[string, boolean][]> {
  const one = async ([name, ctx]: readonly [string, Ctx]): Promise<[string, boolean]> => {
    try {
      return [name, await executeOnce(runner, name, ctx)];
    } catch (error) {
      logger.warn({ pattern: name, err: error }, 'batch execution failed');
      return [name, false];
    }
  };
  if (!parallel) {
    const out: [string, boolean][] = [];
    for (const e of executions) out.push(await one(e));
    return out;
  }
  const limit = new Semaphore(runner.threadPoolSize);
  return Promise.all(
    executions.map(async (e) => {
      await limit.acquire();
      try {
        return await one(e);
      } finally {
        limit.release();
      }
    }),
  );
}

/** Picks the best-fitting pattern and runs it. @returns `[success, message]` */
export async function executeBestPattern(
  runner: Runner,
  context: PatternContext | PatternContextInput,
): Promise<[boolean, string]> {
  const ctx = PatternContext.from(context);
  let best: DelegationPattern | undefined;
  try {
    best = runner.selectPattern(ctx);
  } catch (error) {
    if (!(error instanceof PatternError)) throw error;
    return [false, error.message];
  }
  if (!best) {
    return [
      false,
      `No registered pattern matches the context (domain "${ctx.domain}", agent type "${ctx.agentType}")`,
    ];
  }
  try {
    const ok = await executeOnce(runner, best.name, ctx);
    return [ok, `Executed "${best.name}" (${best.type}): ${ok ? 'succeeded' : 'failed'}`];
  } catch (error) {
    if (error instanceof PatternNotFoundError || !(error instanceof PatternError)) throw error;
    return [false, `Executed "${best.name}" (${best.type}): ${error.message}`];
  }
}
