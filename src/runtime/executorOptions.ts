import { z } from 'zod';
import type { Agent, ResourceArbiter } from '../core/agent.js';
import type { BreakerOptionsInput } from './CircuitBreaker.js';
import type { Clock } from '../core/clock.js';
import type { RunEventListener } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { ResourceMonitor } from './resources/ResourceMonitor.js';
import { runIdSchema } from '../store/journal.js';
import type { RunStore } from '../store/RunStore.js';
import { durationSeconds, positiveDurationMs } from '../core/duration.js';
import { isInspectObserver, type InspectObserver } from './executor/inspectObservers.js';
import type { RunTracer } from '../tracing/ExecutionTracer.js';
import type { SharedBreakerGate } from '../core/sharedBreakers.js';
import type { SharedLearningGate } from '../core/sharedLearning.js';

/** The zod schemas of PatternExecutor's constructor and run options. */

const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === 'function', { message: `${what} must be a function` });

export const optionsSchema = z
  .object({
    /** How many patterns batchExecute runs at once. */
    threadPoolSize: z.number().int().min(1).default(4),
    /** Default pattern timeout, seconds. */
    timeoutDefault: durationSeconds.optional(),
    agents: z
      .array(
        z.custom<Agent>((a) => typeof a === 'object' && a !== null && 'execute' in a, {
          message: 'not an Agent',
        }),
      )
      .default([]),
    breaker: z.custom<BreakerOptionsInput>((v) => typeof v === 'object' && v !== null).optional(),
    /**
     * Circuit breakers shared with the other processes of a cluster (a `SharedBreakerBoard` from
     * `natural-delegation/nats`): an agent failing here opens its circuit everywhere, and one
     * half-open probe runs cluster-wide.
     */
    sharedBreakers: z
      .custom<SharedBreakerGate>(
        (g) =>
          typeof g === 'object' &&
          g !== null &&
          ['state', 'admit', 'recordOpened', 'recordProbe', 'releaseProbe', 'onChange'].every(
            (m) => typeof (g as unknown as Record<string, unknown>)[m] === 'function',
          ),
        { message: 'sharedBreakers must be a SharedBreakerBoard' },
      )
      .optional(),
    /**
     * Learning shared with the other processes of a cluster (a `SharedLearningFeed` from
     * `natural-delegation/nats`): agent and pattern outcomes seen by any process feed every
     * process's statistics.
     */
    sharedLearning: z
      .custom<SharedLearningGate>(
        (g) =>
          typeof g === 'object' &&
          g !== null &&
          typeof (g as SharedLearningGate).publish === 'function' &&
          typeof (g as SharedLearningGate).onOutcome === 'function',
        { message: 'sharedLearning must be a SharedLearningFeed' },
      )
      .optional(),
    clock: z
      .custom<Clock>((c) => typeof c === 'object' && c !== null && 'now' in c && 'setTimeout' in c, {
        message: 'clock needs now/setTimeout/clearTimeout',
      })
      .optional(),
    random: fn<() => number>('random').optional(),
    /**
     * How a step's agent is chosen among the capable ones (an explicit mapping always wins):
     * `learned` (default, Thompson sampling per context cell, see LearningConfig), `leastLoaded`, `roundRobin`.
     */
    agentSelection: z.enum(['learned', 'leastLoaded', 'roundRobin']).default('learned'),
    resolver: z
      .custom<ResourceArbiter>((r) => typeof r === 'object' && r !== null && 'acquire' in r)
      .optional(),
    onEvent: fn<RunEventListener>('onEvent').optional(),
    /**
     * Host and process figures: what `memoryLimitMb` and analytics measure, and the load a
     * parallel pattern checks before starting another task. Default: a monitor of this host;
     * parallel patterns are gated by measured load only on the wall clock (with an injected
     * `clock` the run is a simulation, so host load is not part of it) or when a monitor is given.
     */
    resourceMonitor: z
      .custom<ResourceMonitor>((m) => m instanceof ResourceMonitor, { message: 'not a ResourceMonitor' })
      .optional(),
    logger: z.custom<Logger>((l) => typeof l === 'object' && l !== null && 'info' in l).optional(),
    /**
     * Journal every run here (durable runs): a run id that exists continues that run, and
     * `resume`, `recover`, `cancelRun`, `forkRun` and `signal` work across restarts.
     */
    store: z
      .custom<RunStore>(
        (s) => typeof s === 'object' && s !== null && 'append' in s && 'read' in s && 'listRuns' in s,
        { message: 'not a RunStore' },
      )
      .optional(),
  })
  .strict();
/** Options of {@link PatternExecutor}. */
export type ExecutorOptions = z.input<typeof optionsSchema>;

export const runOptionsSchema = z
  .object({
    /** Overall timeout, ms (default: the pattern's own, else the executor's default). */
    timeoutMs: positiveDurationMs.optional(),
    input: z.unknown().optional(),
    /** The run's id (default: a new UUID); with a store, an existing id continues that run. */
    runId: runIdSchema.optional(),
    signal: z.custom<AbortSignal>((s) => s instanceof AbortSignal).optional(),
    onEvent: fn<RunEventListener>('onEvent').optional(),
    /** Also emit a `transition` event for every machine transition (for traces; costs time). */
    traceTransitions: z.boolean().default(false),
    /** Durable runs: resume a run even though its pattern changed since it started. */
    allowChangedPattern: z.boolean().default(false),
    /**
     * Durable runs: where the pattern is defined (ndf records the workflow file), kept in the
     * journal so tools can find the definition when they resume, cancel or fork the run.
     */
    source: z.string().min(1).max(4096).optional(),
    /**
     * An XState inspection observer (function or `{ next }`) given to the run's root actor, so it
     * sees every actor, event and snapshot of the run: Stately's inspector, `@statelyai/inspect`,
     * any XState tooling. One that throws is logged and ignored. Costs time on every transition.
     */
    inspect: z
      .custom<InspectObserver>(isInspectObserver, {
        message: 'must be a function or an observer with next()',
      })
      .optional(),
    /** Records the run as spans (an `ExecutionTracer`, `natural-delegation/tracing`); level `debug` implies `traceTransitions`. */
    tracer: z
      .custom<RunTracer>((t) => typeof t === 'object' && t !== null && 'forRun' in t && 'onEvent' in t, {
        message: 'tracer must be an ExecutionTracer',
      })
      .optional(),
  })
  .strict();
/** Options of {@link PatternExecutor.run}. */
export type RunOptions = z.input<typeof runOptionsSchema>;
/** Run options after validation and defaults. */
export type ParsedRunOptions = z.output<typeof runOptionsSchema>;
