import { randomUUID } from 'node:crypto';
import { createActor, type AnyActor, type Snapshot } from 'xstate';
import type { ResourceArbiter } from '../../core/agent.js';
import type { Clock } from '../../core/clock.js';
import {
  PatternExecutionError,
  PatternValidationError,
  ResourceExhaustionError,
  toSerializedError,
  type SerializedError,
} from '../../core/errors.js';
import type { RunEventListener } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import type { RunResult } from '../../core/result.js';
import type { RunStatus } from '../../core/status.js';
import { parseWith } from '../../core/validate.js';
import type { ChildPattern } from '../../machines/orchestration.machine.js';
import type { PatternFinalOutput } from '../../machines/pattern.types.js';
import type { AgentPool } from '../AgentPool.js';
import { runOptionsSchema, type ParsedRunOptions, type RunOptions } from '../executorOptions.js';
import type { RuntimeMachines } from '../machines.js';
import { PatternContext, type PatternContextInput } from '../PatternContext.js';
import type { PatternRegistry } from '../PatternRegistry.js';
import { BuiltInPattern } from '../patterns/BuiltInPattern.js';
import type { DelegationPattern } from '../patterns/DelegationPattern.js';
import { planRun } from '../planRun.js';
import { RunEnv } from '../RunEnv.js';
import { RunRecorder } from '../RunRecorder.js';
import { releaseIdle, waitForEnd } from '../runActor.js';
import type { ResourceContext, ResourceMonitor } from '../resources/ResourceMonitor.js';
import { LiveRunView, MetaRunView } from '../RunView.js';
import { checkConfidence } from './confidenceGate.js';
import type { EventBus } from './EventBus.js';
import { learnFromRun } from './learnFromRun.js';
import type { LiveMetaRuns } from './LiveMetaRuns.js';
import { combineInspect } from './inspectObservers.js';
import { transitionInspector } from './transitionInspector.js';
import { asJson, RunJournal, type JsonValue } from '../durable/RunJournal.js';
import { checkShape, hasSignalWait } from '../durable/resumeChecks.js';
import { shapeHash, shapeOf } from '../durable/specShape.js';
import type { JournalEntry, JournalRunResult } from '../../store/journal.js';
import type { PostedRequest, RunStore } from '../../store/RunStore.js';
import { RequestInbox } from '../durable/RequestInbox.js';
import type { RunShared } from '../RunEnv.js';
import { NO_TIMEOUT_MS } from '../../machines/step.machine.js';
import type { RunTracer } from '../../tracing/ExecutionTracer.js';
import type { SharedPatternOutcome } from '../../core/sharedLearning.js';

/** What the run lifecycle needs from its executor. */
export interface RunLauncherDeps {
  readonly registry: PatternRegistry;
  readonly pool: AgentPool;
  readonly machines: RuntimeMachines;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly resolver: ResourceArbiter;
  readonly bus: EventBus;
  readonly liveMeta: LiveMetaRuns;
  /** The executor's default overall timeout, ms (read at each run: configureExecution may change it). */
  readonly timeoutDefaultMs: () => number;
  /** Measures each run and the process memory. */
  readonly monitor: ResourceMonitor;
  /** The process memory limit, MiB (`configureExecution({ memoryLimitMb })`); undefined: none. */
  readonly memoryLimitMb: () => number | undefined;
  /** Where runs are journaled (durable runs); undefined: runs live in memory only. */
  readonly store: RunStore | undefined;
  /** Where pattern outcomes are shared with a cluster; undefined: kept in this process. */
  readonly shareOutcome: ((outcome: SharedPatternOutcome) => void) | undefined;
}

/** A run this process is executing: what `signal`, `cancelRun` and a second `run` with its id reach. */
export interface LiveRun {
  /** The run's journal once it started (undefined for a run that is not journaled). */
  journal: RunJournal | undefined;
  /** Cancels the run (its completed steps are compensated as on failure). */
  cancel: (reason: string | undefined) => void;
  /**
   * Suspends a journaled run: nothing more is journaled, its actors stop, and `result` rejects
   * with a PatternExecutionError (`details.runId`); resume it later. Resolves once the journal is
   * flushed. A run without a store cannot be suspended (it is cancelled instead).
   */
  suspend: () => Promise<void>;
  result: Promise<RunResult>;
  /** A cancellation asked for before the run started. */
  pendingCancel?: { reason: string | undefined } | undefined;
}

/** What a run resumes from: its journal so far. */
interface Resume {
  readonly entries: readonly JournalEntry[];
  readonly started: Extract<JournalEntry, { kind: 'runStarted' }>;
}

const MIB = 1024 * 1024;

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
  /** Stops handing the executor's breaker events to the run's tracer. */
  readonly untrace: (() => void) | undefined;
  /** What the pattern sees of this run (built-in patterns only). */
  view: LiveRunView | undefined;
  /** Measures the run's CPU time and peak RSS (opened when the actor is created). */
  resources: ResourceContext | undefined;
  readonly journal: RunJournal | undefined;
  /** Settles with the error that stops the run early: a failed journal append, or a suspension. */
  readonly journalFailure: Promise<unknown>;
  /** Stops the run early with `error` (what `run()` rejects with). */
  readonly stop: (error: Error) => void;
  /** Why the run was cancelled (`cancelRun`), when it was. */
  cancelled: { reason: string | undefined } | undefined;
}

/** One run's lifecycle: validate and plan, start the root actor, wait, turn its end into a RunResult. */
export class RunLauncher {
  /** Runs executing in this process, by run id. */
  readonly live = new Map<string, LiveRun>();
  /** Requests other processes queue in the store for the runs of this process. */
  private readonly inbox: RequestInbox | undefined;

  constructor(private readonly deps: RunLauncherDeps) {
    this.inbox =
      deps.store === undefined
        ? undefined
        : new RequestInbox(
            deps.store,
            () => [...this.live].filter(([, r]) => r.journal !== undefined).map(([id]) => id),
            (posted) => this.deliver(posted),
            deps.logger,
          );
  }

  /**
   * Runs a pattern to its end and reports everything that happened. With a store, a run id that
   * exists continues that run (or returns its recorded result when it finished).
   * @throws (as a rejection) PatternNotFoundError, NoCapableAgentError, ConfidenceThresholdError,
   *   PatternValidationError, InvalidPatternError (a resumed run's pattern changed), RunStoreError
   */
  run(
    patternName: string,
    context: PatternContext | PatternContextInput | undefined,
    options: RunOptions,
  ): Promise<RunResult> {
    let o: ParsedRunOptions;
    try {
      o = parseWith(runOptionsSchema, options, 'run options');
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const runId = o.runId ?? randomUUID();
    const live = this.live.get(runId);
    if (live) return live.result;
    const entry: LiveRun = {
      journal: undefined,
      cancel: (reason) => (entry.pendingCancel = { reason }),
      suspend: async () => entry.cancel('suspended before it started'),
      result: Promise.resolve(undefined as unknown as RunResult),
    };
    this.live.set(runId, entry);
    const result =
      this.deps.store === undefined
        ? this.runNow(patternName, context, o, runId, undefined, entry)
        : this.runDurable(this.deps.store, patternName, context, o, runId, entry);
    entry.result = result;
    const forget = () => {
      if (this.live.get(runId) === entry) this.live.delete(runId);
    };
    result.then(forget, forget);
    return result;
  }

  /** A run with a store: reads its journal, then starts, resumes or reports it. */
  private async runDurable(
    store: RunStore,
    patternName: string,
    context: PatternContext | PatternContextInput | undefined,
    o: ParsedRunOptions,
    runId: string,
    entry: LiveRun,
  ): Promise<RunResult> {
    const entries = await store.read(runId);
    const started = entries[0];
    if (started === undefined) return this.runNow(patternName, context, o, runId, undefined, entry);
    // the store checked the journal: it starts with runStarted
    if (started.kind !== 'runStarted' || started.pattern !== patternName) {
      throw new PatternValidationError(
        `Run ${runId} is a run of pattern "${(started as { pattern?: string }).pattern}", not "${patternName}"`,
        { patternName, field: 'runId' },
      );
    }
    const last = entries[entries.length - 1];
    if (last?.kind === 'runFinished') return last.result;
    return this.runNow(patternName, started.context, o, runId, { entries, started }, entry);
  }

  /** Starts (or resumes) the run and waits for its end. */
  private runNow(
    patternName: string,
    context: PatternContext | PatternContextInput | undefined,
    o: ParsedRunOptions,
    runId: string,
    resume: Resume | undefined,
    entry: LiveRun,
  ): Promise<RunResult> {
    let started: StartedRun;
    try {
      started = this.startRun(patternName, context, o, runId, resume);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const { journal } = started;
    entry.journal = journal;
    entry.cancel = (reason) => this.cancel(started, reason);
    entry.suspend = () => this.suspend(started);
    if (entry.pendingCancel) this.cancel(started, entry.pendingCancel.reason);
    if (journal === undefined || this.deps.store === undefined) {
      // A promise chain rather than an async frame: a parked run keeps only `started` alive.
      return waitForEnd(started.actor, started.signal).then((crash) => this.finishRun(started, crash));
    }
    return this.driveDurable(started, journal);
  }

  /** A journaled run: takes the run in the store before any agent is called, and journals its end. */
  private async driveDurable(started: StartedRun, journal: RunJournal): Promise<RunResult> {
    try {
      await journal.durable();
    } catch (error) {
      started.actor.stop();
      throw error;
    }
    if (journal.index.cancelRequested) started.cancelled ??= journal.index.cancelRequested;
    this.inbox?.watch();
    void this.inbox?.poll();
    // finishRun as soon as the actor ends (as for a run without a store: the events stay in order)
    const ended = waitForEnd(started.actor, started.signal).then((crash) => ({
      result: this.finishRun(started, crash),
    }));
    if (started.cancelled) started.actor.send({ type: 'CANCEL' });
    const outcome = await Promise.race([ended, started.journalFailure]);
    if (!(typeof outcome === 'object' && outcome !== null && 'result' in outcome)) {
      started.actor.stop();
      throw outcome;
    }
    const { result } = outcome as { result: RunResult };
    journal.record({ kind: 'runFinished', result: asJson(result) as JournalRunResult });
    await journal.durable();
    return result;
  }

  /** Freezes the run's journal, stops its actors and ends `run()` with a "suspended" error. */
  private async suspend(run: StartedRun): Promise<void> {
    if (run.journal === undefined || this.deps.store === undefined) {
      this.cancel(run, 'suspended (the run has no store)');
      return;
    }
    await run.journal.freeze().catch(() => undefined);
    run.stop(
      new PatternExecutionError(
        `Run ${run.runId} was suspended: resume it with resume("${run.runId}") (ndf resume ${run.runId})`,
        { runId: run.runId },
      ),
    );
  }

  /** Delivers a request another process queued in the store for one of this process's runs. */
  private deliver({ runId, request }: PostedRequest): void {
    const live = this.live.get(runId);
    if (request.kind === 'cancel') live?.cancel(request.reason);
    else live?.journal?.deliverSignal(request.signal, request.payload);
  }

  /** Cancels a live run: journals the request and sends CANCEL to its root actor. */
  private cancel(run: StartedRun, reason: string | undefined): void {
    if (run.cancelled) return;
    run.cancelled = { reason };
    run.journal?.record({ kind: 'cancelRequested', ...(reason === undefined ? {} : { reason }) });
    // an actor not started yet gets CANCEL when it starts (driveDurable, or waitForEnd's signal)
    if ((run.actor.getSnapshot() as Snapshot<unknown>).status === 'active')
      run.actor.send({ type: 'CANCEL' });
  }

  /** Validates, plans and creates the root actor (not started). */
  private startRun(
    patternName: string,
    context: PatternContext | PatternContextInput | undefined,
    o: ParsedRunOptions,
    runId: string,
    resume: Resume | undefined,
  ): StartedRun {
    const { registry, pool, clock, bus, liveMeta } = this.deps;
    const pattern = registry.getPattern(patternName);
    const ctx = PatternContext.from(context);
    checkConfidence(pattern);
    this.checkMemory(patternName);
    const tracer = o.tracer;
    const extra = tracer ? withTracer(o.onEvent, tracer) : o.onEvent;
    const listening = bus.size > 0 || extra !== undefined;
    const recorder = new RunRecorder(
      runId,
      () => clock.now(),
      listening ? (e) => bus.emit(e, extra) : undefined,
    );
    const shared: RunShared & { journal?: RunJournal | undefined } = {
      runId,
      context: ctx.toJSON(),
      runInput: resume ? resume.started.input : o.input,
      recorder,
      pool,
      clock,
      resolver: this.deps.resolver,
      trace: tracer?.forRun(runId, () => clock.now()),
    };
    const env = new RunEnv(shared, [patternName]);
    const deadlineAt = resume?.started.deadlineAt;
    const child = planRun(
      pattern,
      env,
      {
        explicit: deadlineAt === undefined ? o.timeoutMs : Math.max(1, deadlineAt - clock.now()),
        fallback: this.deps.timeoutDefaultMs(),
      },
      registry,
      pool,
    );
    const shape = shapeOf(child);
    if (resume) checkShape(runId, patternName, resume.started, shape, o.allowChangedPattern);
    let failed: (error: unknown) => void = () => undefined;
    const journalFailure = new Promise<unknown>((resolve) => (failed = resolve));
    const store = this.deps.store;
    if (store !== undefined || hasSignalWait(child)) {
      shared.journal = new RunJournal(store, runId, resume?.entries ?? [], failed, this.deps.logger);
      if (resume) shared.journal.record({ kind: 'runResumed', pid: process.pid });
      else {
        const timeoutMs = (child.input as { spec?: { timeoutMs?: number } }).spec?.timeoutMs;
        const input = asJson(o.input);
        shared.journal.record({
          kind: 'runStarted',
          pattern: patternName,
          ...(o.source === undefined ? {} : { source: o.source }),
          specHash: shapeHash(shape),
          steps: shape,
          input: input ?? null,
          context: asJson(ctx.toJSON()) as Record<string, JsonValue>,
          ...(timeoutMs === undefined || timeoutMs >= NO_TIMEOUT_MS
            ? {}
            : { deadlineAt: clock.now() + timeoutMs }),
        });
      }
    }
    const startedAt = resume?.started.at ?? clock.now();
    if (listening) {
      bus.emit(
        { type: 'run.started', at: startedAt, runId, pattern: patternName, patternType: pattern.type },
        extra,
      );
    }
    const traced =
      o.traceTransitions || tracer?.level === 'debug'
        ? transitionInspector(runId, clock, (e) => bus.emit(e, extra))
        : undefined;
    const inspect = combineInspect([traced, o.inspect], this.deps.logger, runId);
    const actor = createActor(this.deps.machines[child.kind], {
      input: child.input,
      clock,
      ...(inspect ? { inspect } : {}),
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
      resources: undefined,
      journal: shared.journal,
      journalFailure,
      stop: failed,
      cancelled: undefined,
      // breaker changes are executor-wide events (runId '*'): the run's tracer hears them while it runs
      untrace: tracer && bus.add((e) => e.type === 'breaker.state' && tracer.onEvent(e)),
    };
    if (pattern instanceof BuiltInPattern) {
      liveMeta.replace(patternName);
      started.view =
        child.kind === 'orchestration'
          ? new MetaRunView(runId, clock, recorder, patternName, actor, () =>
              liveMeta.forget(patternName, actor),
            )
          : new LiveRunView(runId, clock, recorder, patternName);
      pattern.attachRun(started.view);
    }
    started.resources = this.deps.monitor.resourceContext();
    return started;
  }

  /**
   * @throws ResourceExhaustionError naming the limit and the measured resident set size when
   *   the process is over `memoryLimitMb`
   */
  private checkMemory(patternName: string): void {
    const limitMb = this.deps.memoryLimitMb();
    if (limitMb === undefined) return;
    const rssMb = this.deps.monitor.processRssBytes() / MIB;
    if (rssMb <= limitMb) return;
    throw new ResourceExhaustionError(
      `Pattern "${patternName}" not started: process memory (resident set) is ${rssMb.toFixed(1)} MiB, over memoryLimitMb ${limitMb}`,
      { patternName, field: 'memoryLimitMb', threshold: limitMb },
    );
  }

  /** Turns the ended root actor into a RunResult, records learning and emits `run.finished`. */
  private finishRun(run: StartedRun, crash: unknown): RunResult {
    const { clock, bus, liveMeta } = this.deps;
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
      status = run.cancelled
        ? 'cancelled'
        : out?.timedOut
          ? 'timedOut'
          : out?.status === 'rolledBack'
            ? 'rolledBack'
            : 'failed';
      error = crash !== undefined ? toSerializedError(crash) : out?.error;
    }
    if (!succeeded) run.recorder.skipUnstarted();
    if (succeeded && run.kind === 'orchestration') liveMeta.keep(patternName, actor);
    else if (succeeded) releaseIdle(actor);
    else actor.stop();
    const durationMs = clock.now() - run.startedAt;
    const figures = run.resources?.end();
    learnFromRun(
      this.deps.registry,
      {
        pattern: run.pattern,
        kind: run.kind,
        domain: run.domain,
        success: succeeded,
        durationMs,
        actor,
        measured: figures && { cpuMs: figures.cpuMs, peakRssBytes: figures.peakRssBytes },
      },
      clock.now(),
      undefined,
      this.deps.shareOutcome,
    );
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
    this.deps.logger.info({ runId, pattern: patternName, status, durationMs }, 'run finished');
    if (run.extra !== undefined) {
      bus.emit(
        { type: 'run.finished', at: clock.now(), runId, pattern: patternName, status, durationMs },
        run.extra ?? undefined,
      );
    }
    run.untrace?.();
    run.view?.settle(result);
    return result;
  }
}

/** The run's own listener, then the tracer. */
function withTracer(listener: RunEventListener | undefined, tracer: RunTracer): RunEventListener {
  if (!listener) return (e) => tracer.onEvent(e);
  return (e) => {
    listener(e);
    tracer.onEvent(e);
  };
}
