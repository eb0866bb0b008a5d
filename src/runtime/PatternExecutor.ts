import { randomUUID } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import { createActor, type AnyActor, type InspectionEvent, type Snapshot } from 'xstate';
import { z } from 'zod';
import type { Agent, ResourceArbiter } from '../core/agent.js';
import type { ChildPattern, OrchestrationContext } from '../machines/orchestration.machine.js';
import type { PatternFinalOutput } from '../machines/pattern.types.js';
import { ConflictResolver } from '../resolver/conflictResolver.js';
import { AgentPool } from './AgentPool.js';
import type { BreakerOptionsInput, BreakerMetrics } from './CircuitBreaker.js';
import { systemClock, type Clock } from '../core/clock.js';
import {
  ConfidenceThresholdError,
  PatternError,
  PatternNotFoundError,
  PatternTimeoutError,
  toSerializedError,
  type SerializedError,
} from '../core/errors.js';
import type { RunEvent, RunEventListener } from '../core/events.js';
import { defaultLogger, type Logger } from '../core/logger.js';
import { provideMachines, type RuntimeMachines } from './machines.js';
import { PatternConfig } from './PatternConfig.js';
import { PatternContext, type PatternContextInput } from './PatternContext.js';
import type { PatternRegistry } from './PatternRegistry.js';
import { planRun } from './planRun.js';
import { BuiltInPattern } from './patterns/BuiltInPattern.js';
import type { DelegationPattern } from './patterns/DelegationPattern.js';
import type { RunResult } from '../core/result.js';
import { RunEnv } from './RunEnv.js';
import { RunRecorder } from './RunRecorder.js';
import { Semaphore } from '../core/semaphore.js';
import type { RunStatus } from '../core/status.js';
import { parseWith } from '../core/validate.js';
import { optionsSchema, runOptionsSchema, type ExecutorOptions, type RunOptions } from './executorOptions.js';
import { actorPath, releaseIdle, waitForEnd } from './runActor.js';
import { LiveRunView, MetaRunView } from './RunView.js';

export type { ExecutorOptions, RunOptions };

/**
 * Runs delegation patterns: spawns each pattern's machine as an XState actor, delegates its
 * steps to agents (routing by capability or mapping, one circuit breaker and concurrency limit
 * per agent), rolls back on failure, and records outcomes for learning.
 *
 * @example
 * const executor = new PatternExecutor(registry, { agents: [defineAgent({ id: 'v', capabilities: ['validate'], handler: () => 'ok' })] });
 * const result = await executor.run('basic_workflow', { domain: 'data' });
 */
export class PatternExecutor {
  readonly threadPoolSize: number;
  private timeoutDefaultMs: number;
  private readonly clock: Clock;
  private readonly pool: AgentPool;
  private readonly machines: RuntimeMachines;
  private readonly listeners = new Set<RunEventListener>();
  private readonly logger: Logger;
  private readonly resolver: ResourceArbiter;
  /** The in-process resolver created when none was given (closed with the executor). */
  private readonly ownResolver: ConflictResolver | undefined;
  /** Live actors of succeeded meta-orchestration runs, kept for triggerRollback. */
  private readonly liveMeta = new Map<string, AnyActor>();

  /**
   * @param registry - where patterns are looked up; the executor binds itself to them
   * @param options - an options object, or the reference's positional `threadPoolSize`
   * @param timeoutDefault - the reference's positional default timeout, seconds
   * @throws PatternValidationError naming a bad option
   */
  constructor(
    readonly registry: PatternRegistry,
    options: ExecutorOptions | number = {},
    timeoutDefault?: number,
  ) {
    const raw =
      typeof options === 'number'
        ? { threadPoolSize: options, ...(timeoutDefault === undefined ? {} : { timeoutDefault }) }
        : options;
    const o = parseWith(optionsSchema, raw, 'PatternExecutor');
    this.threadPoolSize = o.threadPoolSize;
    this.timeoutDefaultMs =
      (o.timeoutDefault ?? PatternConfig.getCurrentConfig().patternTimeoutSeconds) * 1000;
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? defaultLogger();
    // Named locks go through the in-process conflict resolver unless one is given (e.g. RemoteConflictResolver).
    this.ownResolver = o.resolver ? undefined : new ConflictResolver({ clock: this.clock });
    this.resolver = o.resolver ?? (this.ownResolver as ConflictResolver);
    if (o.onEvent) this.listeners.add(o.onEvent);
    this.pool = new AgentPool({
      clock: this.clock,
      breaker: o.breaker,
      onBreakerChange: (change) => {
        this.logger.warn(
          { agent: change.agentId, from: change.from, to: change.to },
          'circuit breaker state changed',
        );
        this.emit({
          type: 'breaker.state',
          at: change.at,
          runId: '*',
          agent: change.agentId,
          from: change.from,
          to: change.to,
        });
      },
    });
    for (const agent of o.agents) this.pool.register(agent);
    this.machines = provideMachines(o.random ?? Math.random, {
      run: async (name, env) => {
        const started = this.clock.now();
        const success = await this.registry.getPattern(name).execute(PatternContext.from(env.run.context));
        return { success, durationMs: this.clock.now() - started };
      },
      compensate: async (name, env) => {
        const pattern = this.registry.getPattern(name) as DelegationPattern & {
          compensate?: (c: PatternContext) => unknown;
        };
        await pattern.compensate?.(PatternContext.from(env.run.context));
      },
    });
    if (o.clock) registry.adoptClock(o.clock);
    for (const p of registry.listPatterns()) this.bind(p);
    registry.onRegister((p) => this.bind(p));
  }

  private bind(pattern: DelegationPattern): void {
    if (pattern instanceof BuiltInPattern) pattern.bindRunner(this);
  }

  /**
   * Adds an agent (with its own breaker options if given).
   * @throws PatternValidationError if the id is taken
   */
  registerAgent(agent: Agent, options: { breaker?: BreakerOptionsInput } = {}): void {
    this.pool.register(agent, options.breaker);
  }

  /** Registered agents. */
  agents(): Agent[] {
    return this.pool.list();
  }

  /** Breaker metrics of an agent; undefined if unknown. */
  agentBreaker(agentId: string): BreakerMetrics | undefined {
    return this.pool.breaker(agentId)?.metrics();
  }

  /** Subscribes to every run's events; returns a disposer. */
  onEvent(listener: RunEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: RunEvent, extra?: RunEventListener): void {
    for (const l of this.listeners) l(event);
    extra?.(event);
  }

  /** The reference's execution tuning: `threadPoolSize` and `timeoutDefault` (seconds). */
  configureExecution(options: {
    threadPoolSize?: number;
    timeoutDefault?: number;
    memoryLimitMb?: number;
  }): void {
    const o = parseWith(
      z
        .object({
          threadPoolSize: z.number().int().min(1).optional(),
          timeoutDefault: z.number().positive().optional(),
          memoryLimitMb: z.number().positive().optional(),
        })
        .strict(),
      options,
      'configureExecution',
    );
    if (o.threadPoolSize !== undefined)
      (this as { threadPoolSize: number }).threadPoolSize = o.threadPoolSize;
    if (o.timeoutDefault !== undefined) this.timeoutDefaultMs = o.timeoutDefault * 1000;
  }

  /** Heap in use / heap limit of this process, 0..1. */
  getMemoryUsage(): number {
    const h = getHeapStatistics();
    return h.used_heap_size / h.heap_size_limit;
  }

  /**
   * Runs a pattern to its end and reports everything that happened.
   * @throws PatternNotFoundError, NoCapableAgentError (before anything runs), ConfidenceThresholdError, PatternValidationError for bad options
   */
  run(
    patternName: string,
    context?: PatternContext | PatternContextInput,
    options: RunOptions = {},
  ): Promise<RunResult> {
    let started: StartedRun;
    try {
      started = this.startRun(patternName, context, options);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // A promise chain rather than an async frame: a parked run keeps only `started` alive.
    return waitForEnd(started.actor, started.signal).then((crash) => this.finishRun(started, crash));
  }

  /** Validates, plans and creates the root actor (not started). */
  private startRun(
    patternName: string,
    context: PatternContext | PatternContextInput | undefined,
    options: RunOptions,
  ): StartedRun {
    const o = parseWith(runOptionsSchema, options, 'run options');
    const pattern = this.registry.getPattern(patternName);
    const ctx = PatternContext.from(context);
    this.checkConfidence(pattern);
    const runId = o.runId ?? randomUUID();
    const extra = o.onEvent;
    const listening = this.listeners.size > 0 || extra !== undefined;
    const recorder = new RunRecorder(
      runId,
      () => this.clock.now(),
      listening ? (e) => this.emit(e, extra) : undefined,
    );
    const shared = {
      runId,
      context: ctx.toJSON(),
      runInput: o.input,
      recorder,
      pool: this.pool,
      clock: this.clock,
      resolver: this.resolver,
    };
    const env = new RunEnv(shared, [patternName]);
    const child = planRun(
      pattern,
      env,
      { explicit: o.timeoutMs, fallback: this.timeoutDefaultMs },
      this.registry,
      this.pool,
    );
    const startedAt = this.clock.now();
    if (listening) {
      this.emit(
        { type: 'run.started', at: startedAt, runId, pattern: patternName, patternType: pattern.type },
        extra,
      );
    }
    const actor = createActor(this.machines[child.kind], {
      input: child.input,
      clock: this.clock,
      ...(o.traceTransitions ? { inspect: this.inspector(runId, extra) } : {}),
    }) as AnyActor;
    const started: StartedRun = {
      patternName,
      pattern,
      kind: child.kind,
      domain: ctx.domain,
      runId,
      recorder,
      actor,
      startedAt,
      signal: o.signal,
      extra: listening ? (extra ?? null) : undefined,
      view: undefined,
    };
    if (pattern instanceof BuiltInPattern) {
      this.liveMeta.get(patternName)?.stop();
      this.liveMeta.delete(patternName);
      started.view =
        child.kind === 'orchestration'
          ? new MetaRunView(runId, this.clock, recorder, patternName, actor, () => {
              if (this.liveMeta.get(patternName) === actor) this.liveMeta.delete(patternName);
            })
          : new LiveRunView(runId, this.clock, recorder, patternName);
      pattern.attachRun(started.view);
    }
    return started;
  }

  /** Turns the ended root actor into a RunResult, records learning and emits `run.finished`. */
  private finishRun(run: StartedRun, crash: unknown): RunResult {
    const { actor, patternName, runId } = run;
    const snapshot = actor.getSnapshot() as Snapshot<unknown> & {
      value?: unknown;
      output?: PatternFinalOutput;
    };
    const succeeded = crash === undefined && snapshot.value === 'succeeded';
    let status: RunStatus = 'succeeded';
    let error: SerializedError | undefined;
    if (!succeeded) {
      const out = snapshot.output;
      status = out?.timedOut ? 'timedOut' : out?.status === 'rolledBack' ? 'rolledBack' : 'failed';
      error = crash !== undefined ? toSerializedError(crash) : out?.error;
    }
    if (!succeeded) run.recorder.skipUnstarted();
    if (succeeded && run.kind === 'orchestration') this.liveMeta.set(patternName, actor);
    else if (succeeded) releaseIdle(actor);
    else actor.stop();
    const durationMs = this.clock.now() - run.startedAt;
    this.learn(run.pattern, run.kind, run.domain, succeeded, durationMs, actor);
    const result: RunResult = {
      runId,
      pattern: patternName,
      status,
      success: succeeded,
      startedAt: run.startedAt,
      durationMs,
      steps: run.recorder.stepReports(),
      error,
    };
    this.logger.info({ runId, pattern: patternName, status, durationMs }, 'run finished');
    if (run.extra !== undefined) {
      this.emit(
        { type: 'run.finished', at: this.clock.now(), runId, pattern: patternName, status, durationMs },
        run.extra ?? undefined,
      );
    }
    run.view?.settle(result);
    return result;
  }

  private checkConfidence(pattern: DelegationPattern): void {
    const minSamples = PatternConfig.getCurrentConfig().minSamples;
    if (pattern.executionCount >= minSamples && pattern.confidenceScore < pattern.confidenceThreshold) {
      throw new ConfidenceThresholdError(
        `Pattern "${pattern.name}" has confidence ${pattern.confidenceScore.toFixed(2)}, below its threshold ${pattern.confidenceThreshold}`,
        {
          patternName: pattern.name,
          confidence: pattern.confidenceScore,
          threshold: pattern.confidenceThreshold,
        },
      );
    }
  }

  /** Records outcomes for learning: the pattern's, and for a meta run each child pattern's. */
  private learn(
    pattern: DelegationPattern,
    kind: ChildPattern['kind'],
    domain: string,
    success: boolean,
    durationMs: number,
    actor: AnyActor,
  ): void {
    if (!(pattern instanceof BuiltInPattern)) return; // custom patterns record themselves
    const at = this.clock.now();
    pattern.recordExecution(success, domain, durationMs, at);
    if (kind !== 'orchestration') return;
    const context = (actor.getSnapshot() as { context: OrchestrationContext }).context;
    for (const outcome of context.phases.flatMap((p) => p.outcomes)) {
      const p = this.registry.has(outcome.name) ? this.registry.getPattern(outcome.name) : undefined;
      if (p instanceof BuiltInPattern) p.recordExecution(outcome.success, domain, outcome.durationMs, at);
    }
  }

  private inspector(runId: string, extra: RunEventListener | undefined) {
    return (ev: InspectionEvent) => {
      if (ev.type !== '@xstate.snapshot') return;
      const snap = ev.snapshot as { value?: unknown };
      if (snap.value === undefined) return;
      const ref = ev.actorRef as AnyActor;
      const machineId = (ref.logic as { id?: unknown }).id;
      this.emit(
        {
          type: 'transition',
          at: this.clock.now(),
          runId,
          actor: actorPath(ref),
          machine: typeof machineId === 'string' ? machineId : 'actor',
          state: snap.value,
          event: ev.event.type,
        },
        extra,
      );
    };
  }

  /**
   * Runs a pattern; resolves true if it succeeded, false if it failed (and was rolled back where enabled).
   * @param timeoutSeconds - overall timeout, seconds
   * @throws PatternNotFoundError; PatternExecutionError (e.g. NoCapableAgentError) when it cannot run; TimeoutError when it timed out
   */
  async execute(
    patternName: string,
    context?: PatternContext | PatternContextInput,
    timeoutSeconds?: number,
  ): Promise<boolean> {
    const result = await this.run(
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

  /**
   * Runs `primaryPattern`; if it fails or cannot run, runs `fallbackPattern`.
   * @returns `[success, patternUsed]`
   * @throws the fallback's error when the fallback cannot run either
   */
  async executeWithFallback(
    primaryPattern: string,
    fallbackPattern: string,
    context?: PatternContext | PatternContextInput,
  ): Promise<[boolean, string]> {
    try {
      if (await this.execute(primaryPattern, context)) return [true, primaryPattern];
    } catch (error) {
      if (!(error instanceof PatternError)) throw error;
      this.logger.warn(
        { pattern: primaryPattern, err: error },
        'primary pattern could not run; using fallback',
      );
    }
    return [await this.execute(fallbackPattern, context), fallbackPattern];
  }

  /**
   * Runs several patterns, at most `threadPoolSize` at once when `parallel`.
   * A pattern that throws counts as failed.
   * @returns `[patternName, success]` in the order given
   */
  async batchExecute(
    executions: readonly (readonly [string, PatternContext | PatternContextInput | undefined])[],
    parallel = true,
  ): Promise<[string, boolean][]> {
    const one = async ([name, ctx]: readonly [
      string,
      PatternContext | PatternContextInput | undefined,
    ]): Promise<[string, boolean]> => {
      try {
        return [name, await this.execute(name, ctx)];
      } catch (error) {
        this.logger.warn({ pattern: name, err: error }, 'batch execution failed');
        return [name, false];
      }
    };
    if (!parallel) {
      const out: [string, boolean][] = [];
      for (const e of executions) out.push(await one(e));
      return out;
    }
    const limit = new Semaphore(this.threadPoolSize);
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

  /**
   * Picks the registered pattern that best fits the context (it `matches`, passes its
   * confidence threshold, highest confidence score first) and runs it.
   * @returns `[success, message]`; `[false, reason]` when no pattern fits
   */
  async executeBestPattern(context: PatternContext | PatternContextInput): Promise<[boolean, string]> {
    const ctx = PatternContext.from(context);
    const best = this.selectPattern(ctx);
    if (!best) {
      return [
        false,
        `No registered pattern matches the context (domain "${ctx.domain}", agent type "${ctx.agentType}")`,
      ];
    }
    try {
      const ok = await this.execute(best.name, ctx);
      return [ok, `Executed "${best.name}" (${best.type}): ${ok ? 'succeeded' : 'failed'}`];
    } catch (error) {
      if (error instanceof PatternNotFoundError || !(error instanceof PatternError)) throw error;
      return [false, `Executed "${best.name}" (${best.type}): ${error.message}`];
    }
  }

  /**
   * The registered pattern that best fits a context: it `matches`, passes its confidence
   * threshold (once it has `minSamples` executions), highest confidence score first, then
   * registration order. Undefined when none fits. Run it with {@link run} to get a RunResult.
   */
  selectPattern(context: PatternContext | PatternContextInput): DelegationPattern | undefined {
    const ctx = PatternContext.from(context);
    const minSamples = PatternConfig.getCurrentConfig().minSamples;
    let best: DelegationPattern | undefined;
    for (const p of this.registry.listPatterns()) {
      if (!p.matches(ctx)) continue;
      if (p.executionCount >= minSamples && p.confidenceScore < p.confidenceThreshold) continue;
      if (!best || p.confidenceScore > best.confidenceScore) best = p;
    }
    return best;
  }

  /** Stops kept actors, breakers and the in-process conflict resolver, and closes every agent. */
  async close(): Promise<void> {
    for (const a of this.liveMeta.values()) a.stop();
    this.liveMeta.clear();
    this.ownResolver?.close();
    await this.pool.close();
  }
}

/** What a run needs between its start and its end. */
interface StartedRun {
  readonly patternName: string;
  readonly pattern: DelegationPattern;
  readonly kind: ChildPattern['kind'];
  readonly domain: string;
  readonly runId: string;
  readonly recorder: RunRecorder;
  readonly actor: AnyActor;
  readonly startedAt: number;
  readonly signal: AbortSignal | undefined;
  /** undefined: nobody listens; null: executor listeners only; else also this run's listener. */
  readonly extra: RunEventListener | null | undefined;
  /** What the pattern sees of this run (built-in patterns only). */
  view: LiveRunView | undefined;
}
