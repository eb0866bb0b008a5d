import { randomUUID } from 'node:crypto';
import { createActor, type AnyActor, type Snapshot } from 'xstate';
import type { ResourceArbiter } from '../../core/agent.js';
import type { Clock } from '../../core/clock.js';
import { ResourceExhaustionError, toSerializedError, type SerializedError } from '../../core/errors.js';
import type { RunEventListener } from '../../core/events.js';
import type { Logger } from '../../core/logger.js';
import type { RunResult } from '../../core/result.js';
import type { RunStatus } from '../../core/status.js';
import { parseWith } from '../../core/validate.js';
import type { ChildPattern } from '../../machines/orchestration.machine.js';
import type { PatternFinalOutput } from '../../machines/pattern.types.js';
import type { AgentPool } from '../AgentPool.js';
import { runOptionsSchema, type RunOptions } from '../executorOptions.js';
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
import { transitionInspector } from './transitionInspector.js';
import type { RunTracer } from '../../tracing/ExecutionTracer.js';

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
}

/** One run's lifecycle: validate and plan, start the root actor, wait, turn its end into a RunResult. */
export class RunLauncher {
  constructor(private readonly deps: RunLauncherDeps) {}

  /**
   * Runs a pattern to its end and reports everything that happened.
   * @throws (as a rejection) PatternNotFoundError, NoCapableAgentError, ConfidenceThresholdError, PatternValidationError
   */
  run(
    patternName: string,
    context: PatternContext | PatternContextInput | undefined,
    options: RunOptions,
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
    const { registry, pool, clock, bus, liveMeta } = this.deps;
    const o = parseWith(runOptionsSchema, options, 'run options');
    const pattern = registry.getPattern(patternName);
    const ctx = PatternContext.from(context);
    checkConfidence(pattern);
    this.checkMemory(patternName);
    const runId = o.runId ?? randomUUID();
    const tracer = o.tracer;
    const extra = tracer ? withTracer(o.onEvent, tracer) : o.onEvent;
    const listening = bus.size > 0 || extra !== undefined;
    const recorder = new RunRecorder(
      runId,
      () => clock.now(),
      listening ? (e) => bus.emit(e, extra) : undefined,
    );
    const shared = {
      runId,
      context: ctx.toJSON(),
      runInput: o.input,
      recorder,
      pool,
      clock,
      resolver: this.deps.resolver,
      trace: tracer?.forRun(runId, () => clock.now()),
    };
    const env = new RunEnv(shared, [patternName]);
    const child = planRun(
      pattern,
      env,
      { explicit: o.timeoutMs, fallback: this.deps.timeoutDefaultMs() },
      registry,
      pool,
    );
    const startedAt = clock.now();
    if (listening) {
      bus.emit(
        { type: 'run.started', at: startedAt, runId, pattern: patternName, patternType: pattern.type },
        extra,
      );
    }
    const actor = createActor(this.deps.machines[child.kind], {
      input: child.input,
      clock,
      ...(o.traceTransitions || tracer?.level === 'debug'
        ? { inspect: transitionInspector(runId, clock, (e) => bus.emit(e, extra)) }
        : {}),
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
      status = out?.timedOut ? 'timedOut' : out?.status === 'rolledBack' ? 'rolledBack' : 'failed';
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
