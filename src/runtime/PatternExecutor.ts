import type { Agent, ResourceArbiter } from '../core/agent.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { RunEventListener } from '../core/events.js';
import { defaultLogger, type Logger } from '../core/logger.js';
import type { RunResult } from '../core/result.js';
import { parseWith } from '../core/validate.js';
import { ConflictResolver } from '../resolver/conflictResolver.js';
import { AgentPool, type LearnedAgentOutcome } from './AgentPool.js';
import { followSharedLearning } from './executor/shareLearning.js';
import type { BreakerMetrics, BreakerOptionsInput } from './CircuitBreaker.js';
import { selectPattern } from './executor/confidenceGate.js';
import * as conveniences from './executor/conveniences.js';
import { runLogListener } from './executor/runLog.js';
import { EventBus } from './executor/EventBus.js';
import { LiveMetaRuns } from './executor/LiveMetaRuns.js';
import { RunLauncher } from './executor/RunLauncher.js';
import {
  DurableRuns,
  type ForkOptions,
  type RecoveredRun,
  type ResumeOptions,
  type SignalDelivery,
} from './durable/DurableRuns.js';
import type { RunDetails } from './durable/runDetails.js';
import type { CleanupOptions } from '../store/RunStore.js';
import type { ListRunsFilter, RunSummary } from '../store/summary.js';
import { executionTuningSchema, heapUsage, type ExecutionTuning } from './executor/tuning.js';
import { optionsSchema, type ExecutorOptions, type RunOptions } from './executorOptions.js';
import { provideMachines } from './machines.js';
import { ResourceMonitor } from './resources/ResourceMonitor.js';
import { PatternConfig } from './PatternConfig.js';
import { LearningConfig } from './LearningConfig.js';
import { learnerState, restoreLearner, type ArmLearner } from '../learning/ArmLearner.js';
import { agentLearningSchema, type AgentLearningState } from '../storage/agentLearningFile.js';
import { PatternContext, type PatternContextInput } from './PatternContext.js';
import type { PatternRegistry } from './PatternRegistry.js';
import { BuiltInPattern } from './patterns/BuiltInPattern.js';
import type { DelegationPattern } from './patterns/DelegationPattern.js';

export type { ExecutorOptions, RunOptions };

/**
 * Runs delegation patterns: spawns each pattern's machine as an XState actor, delegates its
 * steps to agents (routing by capability or mapping, one circuit breaker and concurrency limit
 * per agent), rolls back on failure, and records outcomes for learning.
 *
 * This file wires the parts together; each part lives in `./executor/`.
 *
 * @example
 * const executor = new PatternExecutor(registry, { agents: [defineAgent({ id: 'v', capabilities: ['validate'], handler: () => 'ok' })] });
 * const result = await executor.run('basic_workflow', { domain: 'data' });
 */
export class PatternExecutor {
  readonly threadPoolSize: number;
  private timeoutDefaultMs: number;
  /** `configureExecution({ memoryLimitMb })`: runs do not start while the process is over it, MiB. */
  private memoryLimitMb: number | undefined;
  /** Host and process figures (runs, memory limit, parallel load gate). */
  readonly resourceMonitor: ResourceMonitor;
  private readonly clock: Clock;
  private readonly pool: AgentPool;
  private readonly bus: EventBus;
  private readonly logger: Logger;
  /** The in-process resolver created when none was given (closed with the executor). */
  private readonly ownResolver: ConflictResolver | undefined;
  /** Stops following the cluster's shared learning (when given). */
  private readonly stopSharing: (() => void) | undefined;
  private readonly liveMeta = new LiveMetaRuns();
  private readonly launcher: RunLauncher;
  private readonly durable: DurableRuns;
  private readonly random: () => number;

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
    this.random = o.random ?? Math.random;
    this.logger = o.logger ?? defaultLogger();
    this.bus = new EventBus(this.logger);
    this.resourceMonitor = o.resourceMonitor ?? new ResourceMonitor();
    // Named locks go through the in-process conflict resolver unless one is given (e.g. RemoteConflictResolver).
    this.ownResolver = o.resolver ? undefined : new ConflictResolver({ clock: this.clock });
    const resolver: ResourceArbiter = o.resolver ?? (this.ownResolver as ConflictResolver);
    if (o.onEvent) this.bus.add(o.onEvent);
    const runLog = runLogListener(this.logger); // undefined (no cost) unless the logger writes info
    if (runLog) this.bus.add(runLog);
    this.pool = new AgentPool({
      clock: this.clock,
      selection: o.agentSelection,
      random: o.random ?? Math.random,
      learning: () => LearningConfig.params(),
      onDecision: (d) =>
        this.bus.emit({
          type: 'learning.decision',
          at: this.clock.now(),
          runId: d.runId,
          kind: 'agent',
          path: d.path,
          step: d.step,
          decision: d.decision,
        }),
      breaker: o.breaker,
      log: this.logger,
      shared: o.sharedBreakers,
      logger: this.logger,
      onLearned:
        o.sharedLearning &&
        ((capability: string, agent: string, outcome: LearnedAgentOutcome) =>
          o.sharedLearning?.publish({ kind: 'agent', capability, agent, ...outcome })),
      onBreakerChange: (change) => {
        this.logger.warn(
          { agent: change.agentId, from: change.from, to: change.to },
          'circuit breaker state changed',
        );
        this.bus.emit({
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
    // Host load gates parallel tasks on the wall clock, or when a monitor is given (see the option).
    const monitor = this.resourceMonitor;
    const gate =
      o.resourceMonitor !== undefined || o.clock === undefined
        ? {
            hasHeadroom: (limits: { cpu: number; memory: number }) =>
              monitor.isResourceAvailable(limits.cpu, limits.memory),
            recheckMs: monitor.sampleIntervalMs,
          }
        : undefined;
    const machines = provideMachines(
      o.random ?? Math.random,
      {
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
      },
      gate,
    );
    this.launcher = new RunLauncher({
      registry,
      pool: this.pool,
      machines,
      clock: this.clock,
      logger: this.logger,
      resolver,
      bus: this.bus,
      liveMeta: this.liveMeta,
      timeoutDefaultMs: () => this.timeoutDefaultMs,
      monitor: this.resourceMonitor,
      memoryLimitMb: () => this.memoryLimitMb,
      store: o.store,
      shareOutcome: o.sharedLearning && ((outcome) => o.sharedLearning?.publish(outcome)),
    });
    this.stopSharing = o.sharedLearning && followSharedLearning(o.sharedLearning, this.pool, registry);
    this.durable = new DurableRuns(o.store, this.launcher);
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

  /**
   * The learning state of the agents able to perform a capability (outcomes per context cell,
   * posteriors); undefined with `agentSelection` other than `learned`.
   */
  agentLearning(capability: string): ArmLearner | undefined {
    return this.pool.selection === 'learned' ? this.pool.learner(capability) : undefined;
  }

  /**
   * The agent learning to save: per capability, the retained outcomes (those older than the
   * retention before `now`, epoch ms, are dropped first) and links.
   */
  exportAgentLearning(now = this.clock.now()): AgentLearningState {
    const capabilities: AgentLearningState['capabilities'] = {};
    for (const c of this.pool.learnedCapabilities()) {
      const l = this.pool.learner(c);
      if (!l) continue;
      l.prune(now);
      capabilities[c] = learnerState(l);
    }
    return { version: 1, capabilities };
  }

  /** Replaces the agent learning of each capability in `state` (see {@link exportAgentLearning}). */
  importAgentLearning(state: AgentLearningState): void {
    const checked = parseWith(agentLearningSchema, state, 'importAgentLearning');
    for (const [c, s] of Object.entries(checked.capabilities))
      this.pool.restoreLearner(c, restoreLearner(s, LearningConfig.params()));
  }

  /** Capabilities whose agents have learned outcomes. */
  learnedCapabilities(): string[] {
    return this.pool.learnedCapabilities();
  }

  /** Subscribes to every run's events; returns a disposer. */
  onEvent(listener: RunEventListener): () => void {
    return this.bus.add(listener);
  }

  /**
   * The reference's execution tuning: `threadPoolSize` (patterns batchExecute runs at once),
   * `timeoutDefault` (default overall timeout, seconds) and `memoryLimitMb` (a run does not
   * start while this process's resident set size is over it, MiB).
   * @throws PatternValidationError naming a bad option
   */
  configureExecution(options: ExecutionTuning): void {
    const o = parseWith(executionTuningSchema, options, 'configureExecution');
    if (o.threadPoolSize !== undefined)
      (this as { threadPoolSize: number }).threadPoolSize = o.threadPoolSize;
    if (o.timeoutDefault !== undefined) this.timeoutDefaultMs = o.timeoutDefault * 1000;
    if (o.memoryLimitMb !== undefined) this.memoryLimitMb = o.memoryLimitMb;
  }

  /** Heap in use / heap limit of this process, 0..1. */
  getMemoryUsage(): number {
    return heapUsage();
  }

  /**
   * Runs a pattern to its end and reports everything that happened.
   * @throws PatternNotFoundError, NoCapableAgentError (before anything runs), ConfidenceThresholdError, PatternValidationError for bad options,
   *   ResourceExhaustionError when the process is over `memoryLimitMb`
   */
  run(
    patternName: string,
    context?: PatternContext | PatternContextInput,
    options: RunOptions = {},
  ): Promise<RunResult> {
    return this.launcher.run(patternName, context, options);
  }

  /**
   * Continues a journaled run from its journal: completed steps are not executed again, steps in
   * flight when it stopped are dispatched again with the same idempotency key. A run that
   * finished resolves with its recorded result.
   * @throws PatternValidationError without a store; PatternExecutionError for an unknown run;
   *   InvalidPatternError when the pattern changed since the run started (unless `allowChangedPattern`)
   */
  resume(runId: string, options?: ResumeOptions): Promise<RunResult> {
    return this.durable.resume(runId, options);
  }

  /**
   * Resumes every unfinished run of the store (call it at start-up). Runs waiting for a signal
   * keep waiting; each entry's `result` settles when its run ends.
   */
  recover(options?: ResumeOptions): Promise<RecoveredRun[]> {
    return this.durable.recover(options);
  }

  /** Summaries of the stored runs that pass `filter` (status, pattern, started since, epoch ms). */
  listRuns(filter?: ListRunsFilter): Promise<RunSummary[]> {
    return this.durable.listRuns(filter);
  }

  /** A run's status, steps (attempts, outputs, errors, compensations), signals and journal; undefined when unknown. */
  getRun(runId: string): Promise<RunDetails | undefined> {
    return this.durable.getRun(runId);
  }

  /**
   * Cancels a run durably: completed steps are compensated as on failure and the run finishes
   * `cancelled`. A run not executing in this process is resumed here to do so.
   * @throws PatternExecutionError for an unknown or finished run
   */
  cancelRun(runId: string, reason?: string): Promise<RunResult> {
    return this.durable.cancelRun(runId, reason);
  }

  /**
   * A new run of the same pattern, input and context that reuses the recorded outputs of the
   * steps declared before `fromStep` and executes the rest.
   * @throws PatternValidationError naming the steps when `fromStep` is not one
   */
  forkRun(runId: string, options: ForkOptions): Promise<RunResult> {
    return this.durable.forkRun(runId, options);
  }

  /**
   * Delivers signal `name` (with `payload`, a JSON value) to a run: a step waiting for it
   * (`waitFor: { signal }`) completes with the payload as its output. Journaled, so it survives
   * restarts of either side.
   * @throws PatternExecutionError for an unknown or finished run
   */
  signal(runId: string, name: string, payload?: unknown): Promise<SignalDelivery> {
    return this.durable.signal(runId, name, payload);
  }

  /**
   * Suspends a run this process executes (journaled runs): nothing more is journaled, its actors
   * stop and its `run()` rejects; resume or cancel it later, here or in another process.
   * @throws PatternExecutionError when this process does not execute the run
   */
  suspendRun(runId: string): Promise<void> {
    return this.durable.suspendRun(runId);
  }

  /** Removes the runs that finished more than `olderThanDays` days ago; resolves with their ids. */
  cleanupRuns(options: CleanupOptions): Promise<string[]> {
    return this.durable.cleanupRuns(options);
  }

  /**
   * Runs a pattern; resolves true if it succeeded, false if it failed (and was rolled back where enabled).
   * @param timeoutSeconds - overall timeout, seconds
   * @throws PatternNotFoundError; PatternExecutionError (e.g. NoCapableAgentError) when it cannot run; TimeoutError when it timed out
   */
  execute(
    patternName: string,
    context?: PatternContext | PatternContextInput,
    timeoutSeconds?: number,
  ): Promise<boolean> {
    return conveniences.executeOnce(this, patternName, context, timeoutSeconds);
  }

  /**
   * Runs `primaryPattern`; if it fails or cannot run, runs `fallbackPattern`.
   * @returns `[success, patternUsed]`
   * @throws the fallback's error when the fallback cannot run either
   */
  executeWithFallback(
    primaryPattern: string,
    fallbackPattern: string,
    context?: PatternContext | PatternContextInput,
  ): Promise<[boolean, string]> {
    return conveniences.executeWithFallback(this, this.logger, primaryPattern, fallbackPattern, context);
  }

  /**
   * Runs several patterns, at most `threadPoolSize` at once when `parallel`.
   * A pattern that throws counts as failed.
   * @returns `[patternName, success]` in the order given
   */
  batchExecute(
    executions: readonly (readonly [string, PatternContext | PatternContextInput | undefined])[],
    parallel = true,
  ): Promise<[string, boolean][]> {
    return conveniences.batchExecute(this, this.logger, executions, parallel);
  }

  /**
   * Picks a pattern for the context with {@link selectPattern} (learned: Thompson sampling above
   * the confidence thresholds) and runs it.
   * @returns `[success, message]`; `[false, reason]` when no pattern fits
   */
  executeBestPattern(context: PatternContext | PatternContextInput): Promise<[boolean, string]> {
    return conveniences.executeBestPattern(this, context);
  }

  /**
   * The registered pattern for a context, chosen by the learning layer: among the patterns that
   * `match` it and pass their confidence threshold (once they have `minSamples` outcomes), by
   * Thompson sampling on their Beta posteriors in the context's cell (or the gradient bandit, see
   * LearningConfig), draws from the executor's `random`. The decision is emitted as a
   * `learning.decision` event. Run the pattern with {@link run} to get a RunResult.
   * @returns undefined when no pattern matches
   * @throws ConfidenceThresholdError when patterns match but all are below their thresholds
   */
  selectPattern(context: PatternContext | PatternContextInput): DelegationPattern | undefined {
    return selectPattern(this.registry, PatternContext.from(context), this.random, (decision) =>
      this.bus.emit({
        type: 'learning.decision',
        at: this.clock.now(),
        runId: '*',
        kind: 'pattern',
        decision,
      }),
    );
  }

  /** Stops kept actors, breakers and the in-process conflict resolver, and closes every agent. */
  async close(): Promise<void> {
    this.stopSharing?.();
    this.liveMeta.stopAll();
    this.ownResolver?.close();
    await this.pool.close();
  }
}
