import type { RunEvent } from '../core/events.js';
import type { RunResult } from '../core/result.js';
import type { StepStatus } from '../core/status.js';
import type { JournalEntry } from '../store/journal.js';

/**
 * A run's journal (the durable store's facts) told as the RunEvents a live run reports, so the
 * inspector shows stored runs as it shows live ones. Incremental: entries are pushed in seq order
 * as they are read (a run another process is executing grows between reads). Pure: no I/O.
 *
 * The mapping: `runStarted` → `run.started`; `attemptDispatched` → step `running`;
 * `stepCompleted` → `completed`; `stepFailed` → `retrying` when the journal holds a `retryDue` of
 * the step's next attempt (before the failure, as the runtime journals it, or as the step's next
 * fact), else `failed`; `compensationDispatched` → `compensating`;
 * `compensationCompleted` → `compensated` or `compensationFailed`; `runFinished` → the final
 * status of every step its result reports that the journal left elsewhere (`skipped`,
 * `cancelled`), then `run.finished`. Signals, cancel requests and resumptions have no RunEvent.
 */
export class JournalReplay {
  private readonly agents = new Map<string, string>();
  private readonly attempts = new Map<string, number>();
  private readonly last = new Map<string, StepStatus>();
  /** The attempt a step's journaled `retryDue` announced (it is journaled before the failure). */
  private readonly due = new Map<string, number>();
  /** A failed attempt whose fate (retry or not) the next fact about its step decides. */
  private readonly undecided = new Map<string, Extract<JournalEntry, { kind: 'stepFailed' }>>();
  private runId = '';
  private pattern = '';
  private seq = 0;
  private finished: RunResult | undefined;

  constructor(
    /** The pattern's kind (`sequential`…) for `run.started`, when known. */
    private readonly patternType: (pattern: string) => string = () => '',
  ) {}

  /** The seq of the last entry pushed (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }

  /** The run's result (with the steps' outputs), once `runFinished` was pushed. */
  get result(): RunResult | undefined {
    return this.finished;
  }

  /**
   * The events `entry` tells (entries of seq already pushed are ignored).
   * @throws Error when `entry` skips a seq (the caller must push every fact, in order)
   */
  push(entry: JournalEntry): RunEvent[] {
    if (entry.seq <= this.seq) return [];
    if (entry.seq !== this.seq + 1)
      throw new Error(`journal of run ${entry.runId}: expected seq ${this.seq + 1}, got ${entry.seq}`);
    this.seq = entry.seq;
    this.runId = entry.runId;
    const out: RunEvent[] = [];
    if ('step' in entry) {
      const failed = this.undecided.get(entry.step);
      if (failed !== undefined) {
        this.undecided.delete(entry.step);
        out.push(
          this.step(failed.step, entry.kind === 'retryDue' ? 'retrying' : 'failed', failed.at, failed),
        );
      }
    }
    switch (entry.kind) {
      case 'runStarted':
        this.pattern = entry.pattern;
        out.push({
          type: 'run.started',
          at: entry.at,
          runId: entry.runId,
          pattern: entry.pattern,
          patternType: this.patternType(entry.pattern),
        });
        break;
      case 'attemptDispatched':
        this.agents.set(entry.step, entry.agent);
        this.attempts.set(entry.step, entry.attempt);
        out.push(this.step(entry.step, 'running', entry.at, entry));
        break;
      case 'stepCompleted':
        out.push(this.step(entry.step, 'completed', entry.at, entry));
        break;
      case 'stepFailed':
        if (this.due.get(entry.step) === entry.attempt + 1)
          out.push(this.step(entry.step, 'retrying', entry.at, entry));
        else this.undecided.set(entry.step, entry);
        break;
      case 'retryDue':
        this.due.set(entry.step, entry.attempt);
        break;
      case 'compensationDispatched':
        this.agents.set(entry.step, entry.agent);
        out.push(this.step(entry.step, 'compensating', entry.at, {}));
        break;
      case 'compensationCompleted':
        out.push(this.step(entry.step, entry.error ? 'compensationFailed' : 'compensated', entry.at, entry));
        break;
      case 'runFinished':
        out.push(...this.finish(entry));
        break;
      case 'signalReceived':
      case 'cancelRequested':
      case 'runResumed':
        break;
    }
    return out;
  }

  private finish(entry: Extract<JournalEntry, { kind: 'runFinished' }>): RunEvent[] {
    const out: RunEvent[] = [];
    for (const failed of this.undecided.values())
      out.push(this.step(failed.step, 'failed', failed.at, failed));
    this.undecided.clear();
    const { result } = entry;
    for (const s of result.steps) {
      const key = [...s.path, s.name].join('/');
      if (this.last.get(key) === s.status || s.status === 'pending') continue;
      if (s.agent !== undefined) this.agents.set(key, s.agent);
      this.attempts.set(key, Math.max(this.attempts.get(key) ?? 0, s.attempts));
      out.push(this.step(key, s.status, entry.at, { error: s.error }, s.path, s.name));
    }
    this.finished = result;
    out.push({
      type: 'run.finished',
      at: entry.at,
      runId: entry.runId,
      pattern: this.pattern || result.pattern,
      status: result.status,
      durationMs: result.durationMs,
    });
    return out;
  }

  /** A `step.status` event of the step whose journal key is `key` (`pattern/…/step`). */
  private step(
    key: string,
    status: StepStatus,
    at: number,
    detail: { attempt?: number; error?: RunResult['error'] },
    path?: readonly string[],
    name?: string,
  ): RunEvent {
    this.last.set(key, status);
    const parts = key.split('/');
    return {
      type: 'step.status',
      at,
      runId: this.runId,
      path: path ?? parts.slice(0, -1),
      step: name ?? parts[parts.length - 1] ?? key,
      status,
      agent: this.agents.get(key),
      attempt: detail.attempt ?? this.attempts.get(key) ?? 0,
      ...(detail.error === undefined ? {} : { error: detail.error }),
    };
  }
}
