import type { AnyActor } from 'xstate';
import type { Clock } from '../core/clock.js';
import type { PhaseProgress, RunView } from './patterns/BuiltInPattern.js';
import type { RunResult } from '../core/result.js';
import type { RunRecorder } from './RunRecorder.js';
import { phaseProgressOf, rollbackMeta } from './runActor.js';

/**
 * The live view of a run that a pattern keeps (its latest run): statuses, and a `done`
 * promise created only when someone asks (most runs are never awaited through their pattern).
 */
export class LiveRunView implements RunView {
  private finished: RunResult | undefined;
  private pending: Promise<RunResult> | undefined;
  private resolve: ((result: RunResult) => void) | undefined;

  constructor(
    readonly runId: string,
    readonly clock: Clock,
    private readonly recorder: RunRecorder,
    private readonly patternName: string,
  ) {}

  statuses(): ReturnType<RunView['statuses']> {
    return this.recorder.statuses([this.patternName]);
  }

  get done(): Promise<RunResult> {
    if (this.finished) return Promise.resolve(this.finished);
    this.pending ??= new Promise((resolve) => (this.resolve = resolve));
    return this.pending;
  }

  /** Called by the executor when the run ended. */
  settle(result: RunResult): void {
    this.finished = result;
    this.resolve?.(result);
  }
}

/** A meta-orchestration run's view: also phase progress and rollback of the kept actor. */
export class MetaRunView extends LiveRunView {
  constructor(
    runId: string,
    clock: Clock,
    recorder: RunRecorder,
    patternName: string,
    private readonly actor: AnyActor,
    private readonly onActorDone: () => void,
  ) {
    super(runId, clock, recorder, patternName);
  }

  phaseProgress(): Record<string, PhaseProgress> {
    return phaseProgressOf(this.actor);
  }

  rollback(level: 'pattern' | 'phase' | 'complete', targetPhase?: string): Promise<boolean> {
    return rollbackMeta(this.actor, level, targetPhase, this.onActorDone);
  }
}
