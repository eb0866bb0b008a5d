import type { RunEvent } from '../core/events.js';
import type { RunResult } from '../core/result.js';
import type { RunStatus } from '../core/status.js';

/** One event as the inspector keeps it: numbered in the order it arrived (SSE ids). */
export interface BookEntry {
  /** 1, 2, 3… across every run of the book. */
  readonly seq: number;
  readonly event: RunEvent;
}

/** What the run list shows of one run. */
export interface RunSummary {
  readonly runId: string;
  readonly pattern: string;
  readonly patternType: string;
  /** Epoch ms of its first event. */
  readonly startedAt: number;
  /** `running` until `run.finished` arrives. */
  readonly status: RunStatus | 'running';
  /** ms; set once finished. */
  readonly durationMs?: number | undefined;
  /** Whether the final outputs are known (a result was recorded). */
  readonly hasOutputs: boolean;
}

interface RunRecord {
  runId: string;
  pattern: string;
  patternType: string;
  startedAt: number;
  status: RunStatus | 'running';
  durationMs: number | undefined;
  entries: BookEntry[];
  result: RunResult | undefined;
}

/** The `runId` of events that belong to the executor, not one run (circuit-breaker changes). */
export const EXECUTOR_WIDE = '*';

/** Limits of a {@link RunBook}. */
export interface RunBookLimits {
  /** Runs kept; the oldest finished run is dropped first (then the oldest). */
  readonly maxRuns: number;
  /** Events kept per run; later events of a run past this are counted, not kept. */
  readonly maxEventsPerRun: number;
}

/**
 * The inspector's memory of runs: every RunEvent but machine `transition`s (too many to keep
 * for a page; they stay in `--trace` files), numbered in arrival order so a browser that
 * reconnects gets exactly what it missed, and each run's result (outputs) once recorded.
 * Executor-wide events (`runId` `*`: breaker changes) are kept apart, not as a run.
 * Bounded by {@link RunBookLimits}. No I/O, no clock: time is the events' own `at`.
 */
export class RunBook {
  private readonly runs = new Map<string, RunRecord>();
  /** Events of the executor rather than of one run (`runId` `*`: circuit-breaker changes), newest last. */
  private readonly shared: BookEntry[] = [];
  private seq = 0;
  private dropped = 0;

  constructor(private readonly limits: RunBookLimits) {}

  /** Keeps `event`; returns its entry, or undefined when it is not kept (a transition, or over the limit). */
  add(event: RunEvent): BookEntry | undefined {
    if (event.type === 'transition') return undefined;
    if (event.runId === EXECUTOR_WIDE) {
      const entry = { seq: ++this.seq, event };
      this.shared.push(entry);
      if (this.shared.length > this.limits.maxEventsPerRun) this.shared.shift();
      return entry;
    }
    const run = this.runs.get(event.runId) ?? this.open(event);
    if (event.type === 'run.started') {
      run.pattern = event.pattern;
      run.patternType = event.patternType;
      run.startedAt = event.at;
    } else if (event.type === 'run.finished') {
      run.status = event.status;
      run.durationMs = event.durationMs;
    }
    if (run.entries.length >= this.limits.maxEventsPerRun) {
      this.dropped += 1;
      return undefined;
    }
    const entry = { seq: ++this.seq, event };
    run.entries.push(entry);
    return entry;
  }

  /** Records a run's result (step outputs); unknown runs are opened from it. */
  record(result: RunResult): void {
    const run =
      this.runs.get(result.runId) ??
      this.open({
        type: 'run.started',
        at: result.startedAt,
        runId: result.runId,
        pattern: result.pattern,
        patternType: '',
      });
    run.result = result;
    run.status = result.status;
    run.durationMs = result.durationMs;
  }

  /** Every kept entry with `seq` above `after`, in order (all runs). */
  since(after: number): BookEntry[] {
    const out: BookEntry[] = this.shared.filter((e) => e.seq > after);
    for (const run of this.runs.values()) for (const e of run.entries) if (e.seq > after) out.push(e);
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** The runs, oldest first. */
  list(): RunSummary[] {
    return [...this.runs.values()].map(summary);
  }

  /** One run's summary and events, or undefined. */
  get(runId: string): { summary: RunSummary; events: RunEvent[]; result: RunResult | undefined } | undefined {
    const run = this.runs.get(runId);
    return run && { summary: summary(run), events: run.entries.map((e) => e.event), result: run.result };
  }

  /** The highest sequence number handed out so far. */
  get lastSeq(): number {
    return this.seq;
  }

  /** How many events were not kept because a run was over `maxEventsPerRun`. */
  get droppedEvents(): number {
    return this.dropped;
  }

  private open(first: RunEvent): RunRecord {
    const pattern = first.type === 'run.started' || first.type === 'run.finished' ? first.pattern : '';
    const run: RunRecord = {
      runId: first.runId,
      pattern,
      patternType: first.type === 'run.started' ? first.patternType : '',
      startedAt: first.at,
      status: 'running',
      durationMs: undefined,
      entries: [],
      result: undefined,
    };
    this.runs.set(first.runId, run);
    this.evict();
    return run;
  }

  private evict(): void {
    while (this.runs.size > this.limits.maxRuns) {
      const records = [...this.runs.values()];
      const victim = records.find((r) => r.status !== 'running') ?? records[0];
      if (victim === undefined) return;
      this.runs.delete(victim.runId);
    }
  }
}

function summary(run: RunRecord): RunSummary {
  return {
    runId: run.runId,
    pattern: run.pattern,
    patternType: run.patternType,
    startedAt: run.startedAt,
    status: run.status,
    ...(run.durationMs === undefined ? {} : { durationMs: run.durationMs }),
    hasOutputs: run.result !== undefined,
  };
}
