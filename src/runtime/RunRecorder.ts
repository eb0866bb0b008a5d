import type { SerializedError } from '../core/errors.js';
import type { RunEvent, RunEventListener } from '../core/events.js';
import type { StepReport } from '../core/result.js';
import type { StepStatus } from '../core/status.js';
import { ResultsLog } from './ResultsLog.js';

interface MutableReport {
  name: string;
  path: readonly string[];
  status: StepStatus;
  agent: string | undefined;
  attempts: number;
  firstStartedAt: number | undefined;
  endedAt: number | undefined;
  output: unknown;
  error: SerializedError | undefined;
  compensation: StepReport['compensation'];
  compensationError: SerializedError | undefined;
}

/**
 * Collects what happens to every step of one run and turns it into StepReports and
 * `step.status` / `phase.status` RunEvents. Fed by the runtime's actors and the machines'
 * progress hooks (`reportStatus`, `reportTaskStatus`, `reportPhaseStatus`).
 */
export class RunRecorder {
  private readonly reports = new Map<string, MutableReport>();
  /** Steps declared up front, reported as `pending` until something happens to them (no allocation per step). */
  private readonly declared: { path: readonly string[]; steps: readonly string[] }[] = [];
  /** Outputs of completed steps by step name, and the frozen views handed out. */
  private readonly outputs = new ResultsLog();

  constructor(
    readonly runId: string,
    private readonly now: () => number,
    private readonly emit: RunEventListener | undefined,
  ) {}

  /**
   * Outputs of the steps completed so far, by step name: what a step sees as `input.results`.
   * A frozen view (shallow: the outputs themselves are the agents' values), so a step sees the
   * results before it, a step that adds a key throws in strict mode instead of changing what
   * others see, and an output that embeds `input.results` is never circular. O(1) per step:
   * see {@link ResultsLog}.
   */
  get results(): Readonly<Record<string, unknown>> {
    return this.outputs.current();
  }

  /** Records the output of completed step `step` for later steps' `input.results`. */
  recordResult(step: string, output: unknown): void {
    this.outputs.record(step, output);
  }

  private key(path: readonly string[], step: string): string {
    return path.length === 1 ? `${path[0]}\u0000${step}` : `${path.join('\u0000')}\u0000${step}`;
  }

  private report(path: readonly string[], step: string): MutableReport {
    const key = this.key(path, step);
    let r = this.reports.get(key);
    if (!r) {
      r = {
        name: step,
        path,
        status: 'pending',
        agent: undefined,
        attempts: 0,
        firstStartedAt: undefined,
        endedAt: undefined,
        output: undefined,
        error: undefined,
        compensation: 'none',
        compensationError: undefined,
      };
      this.reports.set(key, r);
    }
    return r;
  }

  /** Declares steps up front so reports list never-run steps too (as `pending`). */
  declare(path: readonly string[], steps: readonly string[]): void {
    this.declared.push({ path, steps });
  }

  /** A step changed status (`attempt` and `agent` when known). */
  status(
    path: readonly string[],
    step: string,
    status: StepStatus,
    detail: {
      attempt?: number;
      agent?: string | undefined;
      error?: SerializedError | undefined;
      output?: unknown;
      /** When it happened, epoch ms (a replayed journal fact's time); default: now. */
      at?: number | undefined;
    } = {},
  ): void {
    const r = this.report(path, step);
    const at = detail.at ?? this.now();
    r.status = status;
    if (detail.attempt !== undefined) r.attempts = detail.attempt;
    if (detail.agent !== undefined) r.agent = detail.agent;
    if (status === 'running' && r.firstStartedAt === undefined) r.firstStartedAt = at;
    if (status === 'completed' || status === 'failed' || status === 'cancelled') r.endedAt = at;
    if (status === 'completed') {
      r.output = detail.output;
      r.error = undefined;
    }
    if (detail.error !== undefined) {
      if (status === 'compensationFailed') r.compensationError = detail.error;
      else r.error = detail.error;
    }
    if (status === 'compensated') r.compensation = 'compensated';
    if (status === 'compensationFailed') r.compensation = 'compensationFailed';
    this.emit?.({
      type: 'step.status',
      at,
      runId: this.runId,
      path,
      step,
      status,
      agent: r.agent,
      attempt: r.attempts,
      error: detail.error,
    });
  }

  phase(
    path: readonly string[],
    phase: string,
    status: Extract<RunEvent, { type: 'phase.status' }>['status'],
  ): void {
    this.emit?.({ type: 'phase.status', at: this.now(), runId: this.runId, path, phase, status });
  }

  /**
   * At the end of a failed run: every declared step that never started is `skipped` (it did not
   * run because the run stopped), so reports, traces and diagrams show no phantom `pending`.
   */
  skipUnstarted(): void {
    for (const d of this.declared) {
      for (const s of d.steps) {
        const r = this.reports.get(this.key(d.path, s));
        if (r === undefined || r.status === 'pending') this.status(d.path, s, 'skipped');
      }
    }
  }

  /** Current status of a step, or undefined if this run never declared it. */
  statusOf(step: string, path?: readonly string[]): StepStatus | undefined {
    const found = path
      ? this.reports.get(this.key(path, step))
      : [...this.reports.values()].find((r) => r.name === step);
    if (found) return found.status;
    const declared = this.declared.some((d) => (!path || samePath(d.path, path)) && d.steps.includes(step));
    return declared ? 'pending' : undefined;
  }

  /** Step statuses by name (for the root pattern unless `path` is given). */
  statuses(path: readonly string[]): Record<string, StepStatus> {
    const out: Record<string, StepStatus> = {};
    for (const d of this.declared) {
      if (samePath(d.path, path)) for (const s of d.steps) out[s] = 'pending';
    }
    for (const r of this.reports.values()) {
      if (samePath(r.path, path)) out[r.name] = r.status;
    }
    return out;
  }

  /** Reports in declaration order (then the order steps were first seen). */
  stepReports(): StepReport[] {
    for (const d of this.declared) for (const s of d.steps) this.report(d.path, s);
    return [...this.reports.values()].map((r) => ({
      name: r.name,
      path: r.path,
      status: r.status,
      agent: r.agent,
      attempts: r.attempts,
      durationMs:
        r.firstStartedAt === undefined ? 0 : Math.max(0, (r.endedAt ?? this.now()) - r.firstStartedAt),
      output: r.output,
      error: r.error,
      compensation: r.compensation,
      compensationError: r.compensationError,
    }));
  }
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}
