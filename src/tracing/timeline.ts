import { Attr, type TraceSpan } from './span.js';

/** One step of a run on the timeline. Times are epoch ms; durations ms. */
export interface StepTiming {
  readonly spanId: string;
  readonly name: string;
  /** The pattern that owns the step. */
  readonly pattern: string;
  readonly agent: string | undefined;
  readonly status: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly attempts: number;
  /** Time inside agent calls (every attempt). */
  readonly runMs: number;
  /** `durationMs - runMs`: waiting for an agent slot, a breaker, locks, or a retry's backoff. */
  readonly waitMs: number;
  /** Split of the waits recorded at level `detailed` (0 when the trace has none). */
  readonly queueMs: number;
  readonly lockMs: number;
  readonly backoffMs: number;
  /** Time in attempts that failed. */
  readonly failedMs: number;
  readonly compensationMs: number;
  /** The step's agent calls (attempts), in order. */
  readonly calls: readonly Interval[];
  /** Its compensations (after the step ended, on a rollback). */
  readonly compensations: readonly Interval[];
}

/** A timed piece of a step: epoch ms; `ok` false when it failed. */
export interface Interval {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ok: boolean;
}

const interval = (s: TraceSpan): Interval => ({
  startedAt: s.startedAt,
  endedAt: s.endedAt ?? s.startedAt,
  ok: s.status !== 'error',
});

/** One agent's load over the run. */
export interface AgentLoad {
  readonly agent: string;
  readonly calls: number;
  readonly failures: number;
  /** Time with at least one call in flight (union of the call intervals), ms. */
  readonly busyMs: number;
  /** `busyMs / run duration`, 0..1. */
  readonly utilisation: number;
  readonly peakConcurrency: number;
  readonly meanCallMs: number;
  /** Calls in flight after each change, in time order (a step function). */
  readonly concurrency: readonly { readonly at: number; readonly active: number }[];
}

/** A failed attempt that was retried. */
export interface RetryRecord {
  readonly step: string;
  readonly attempt: number;
  readonly at: number;
  readonly errorType: string;
}

/** Where a run's time went, ms. `calls` counts successful agent calls only. */
export interface TimeBreakdown {
  readonly calls: number;
  readonly failedCalls: number;
  readonly queue: number;
  readonly locks: number;
  readonly backoff: number;
  readonly compensation: number;
}

/** The analysis of one run's spans. */
export interface RunTimeline {
  readonly runId: string;
  readonly name: string;
  readonly status: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly steps: readonly StepTiming[];
  /** Steps on the critical path, first to last. */
  readonly criticalPath: readonly StepTiming[];
  /** Sum of the critical path's step durations, ms. */
  readonly criticalPathMs: number;
  readonly agents: readonly AgentLoad[];
  readonly retries: readonly RetryRecord[];
  /** Summed over steps (overlapping steps of a parallel pattern add up). */
  readonly time: TimeBreakdown;
  readonly compensations: readonly {
    readonly step: string;
    readonly status: string;
    readonly durationMs: number;
  }[];
}

const span = (s: TraceSpan) => (s.endedAt ?? s.startedAt) - s.startedAt;

/**
 * Analyses the spans of an {@link ExecutionTracer} trace, one {@link RunTimeline} per run (in start
 * order): per-step run vs wait time, per-agent utilisation and concurrency over time, retries,
 * compensations, and the critical path.
 *
 * The critical path is found as Jaeger's trace view does (jaeger-ui `criticalPath`, after
 * "The Mystery Machine", Chow et al., OSDI 2014): from the end of the run, repeatedly take the step
 * that ended last at or before the cursor and move the cursor to its start. In a sequential run it is
 * every step; in a parallel one, the chain of steps that kept the run from ending sooner.
 */
export function analyzeTimeline(spans: readonly TraceSpan[]): RunTimeline[] {
  const byRun = new Map<string, TraceSpan[]>();
  for (const s of spans) {
    const list = byRun.get(s.runId) ?? [];
    list.push(s);
    byRun.set(s.runId, list);
  }
  const timelines: RunTimeline[] = [];
  for (const [runId, list] of byRun) {
    const root = list.find((s) => s.kind === 'run');
    if (root) timelines.push(analyzeRun(runId, root, list));
  }
  return timelines.sort((a, b) => a.startedAt - b.startedAt);
}

function analyzeRun(runId: string, root: TraceSpan, spans: readonly TraceSpan[]): RunTimeline {
  const children = new Map<string, TraceSpan[]>();
  for (const s of spans) {
    if (s.parentSpanId === undefined) continue;
    const list = children.get(s.parentSpanId) ?? [];
    list.push(s);
    children.set(s.parentSpanId, list);
  }
  const retries: RetryRecord[] = [];
  const compensations: RunTimeline['compensations'][number][] = [];
  const steps = spans
    .filter((s) => s.kind === 'step')
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((s) => {
      const kids = children.get(s.spanId) ?? [];
      const attempts = kids.filter((k) => k.kind === 'attempt');
      const waits = (kind: string) =>
        [...kids, ...attempts.flatMap((a) => children.get(a.spanId) ?? [])]
          .filter((k) => k.kind === 'wait' && k.attributes[Attr.WAIT] === kind)
          .reduce((sum, k) => sum + span(k), 0);
      const runMs = attempts.reduce((sum, a) => sum + span(a), 0);
      const comp = kids.filter((k) => k.kind === 'compensation');
      for (const c of comp) {
        compensations.push({
          step: String(s.attributes[Attr.STEP]),
          status: String(
            c.attributes[Attr.COMPENSATION] ?? (c.status === 'ok' ? 'compensated' : 'compensationFailed'),
          ),
          durationMs: span(c),
        });
      }
      for (const e of s.events) {
        if (e.name !== 'ndf.retry') continue;
        retries.push({
          step: String(s.attributes[Attr.STEP]),
          attempt: Number(e.attributes[Attr.ATTEMPT]),
          at: e.at,
          errorType: String(e.attributes[Attr.ERROR_TYPE]),
        });
      }
      const durationMs = span(s);
      const lockMs = waits('lock');
      const timing: StepTiming = {
        spanId: s.spanId,
        name: String(s.attributes[Attr.STEP]),
        pattern: String(s.attributes[Attr.PATTERN]),
        agent:
          s.attributes[Attr.AGENT_NAME] === undefined
            ? attempts.at(-1)?.attributes[Attr.AGENT_NAME]?.toString()
            : String(s.attributes[Attr.AGENT_NAME]),
        status: String(s.attributes[Attr.STEP_STATUS] ?? s.status),
        startedAt: s.startedAt,
        endedAt: s.endedAt ?? s.startedAt,
        durationMs,
        attempts: Number(s.attributes[Attr.ATTEMPTS] ?? attempts.length),
        // lock waits happen inside an attempt: they are waiting, not running
        runMs: runMs - lockMs,
        waitMs: durationMs - runMs + lockMs,
        queueMs: waits('queue'),
        lockMs,
        backoffMs: waits('backoff'),
        failedMs: attempts.filter((a) => a.status === 'error').reduce((sum, a) => sum + span(a), 0),
        compensationMs: comp.reduce((sum, c) => sum + span(c), 0),
        calls: attempts.sort((a, b) => a.startedAt - b.startedAt).map(interval),
        compensations: comp.map(interval),
      };
      return timing;
    });
  const endedAt = root.endedAt ?? Math.max(root.startedAt, ...steps.map((s) => s.endedAt));
  const durationMs = endedAt - root.startedAt;
  const criticalPath = critical(steps, endedAt);
  const sum = (f: (s: StepTiming) => number) => steps.reduce((total, s) => total + f(s), 0);
  return {
    runId,
    name: String(root.attributes[Attr.PATTERN] ?? root.name),
    status: String(root.attributes[Attr.RUN_STATUS] ?? root.status),
    startedAt: root.startedAt,
    endedAt,
    durationMs,
    steps,
    criticalPath,
    criticalPathMs: criticalPath.reduce((total, s) => total + s.durationMs, 0),
    agents: agentLoads(
      spans.filter((s) => s.kind === 'attempt'),
      durationMs,
    ),
    retries: retries.sort((a, b) => a.at - b.at),
    time: {
      calls: sum((s) => s.runMs - s.failedMs),
      failedCalls: sum((s) => s.failedMs),
      queue: sum((s) => s.queueMs),
      locks: sum((s) => s.lockMs),
      backoff: sum((s) => s.backoffMs),
      compensation: sum((s) => s.compensationMs),
    },
    compensations,
  };
}

function critical(steps: readonly StepTiming[], end: number): StepTiming[] {
  const path: StepTiming[] = [];
  const left = new Set(steps);
  let cursor = end;
  for (;;) {
    let best: StepTiming | undefined;
    for (const s of left) {
      if (s.endedAt > cursor) continue;
      // the latest to end; of those ending together, the latest to start (it ran last)
      if (!best || s.endedAt > best.endedAt || (s.endedAt === best.endedAt && s.startedAt > best.startedAt))
        best = s;
    }
    if (!best) break;
    path.push(best);
    left.delete(best);
    cursor = best.startedAt;
  }
  return path.reverse();
}

function agentLoads(attempts: readonly TraceSpan[], runMs: number): AgentLoad[] {
  const byAgent = new Map<string, TraceSpan[]>();
  for (const a of attempts) {
    const agent = String(a.attributes[Attr.AGENT_NAME]);
    const list = byAgent.get(agent) ?? [];
    list.push(a);
    byAgent.set(agent, list);
  }
  return [...byAgent]
    .map(([agent, calls]) => {
      // sweep: +1 at each start, -1 at each end (ends first at equal times)
      const edges = calls
        .flatMap((c) => [
          { at: c.startedAt, d: 1 },
          { at: c.endedAt ?? c.startedAt, d: -1 },
        ])
        .sort((x, y) => x.at - y.at || x.d - y.d);
      const concurrency: { at: number; active: number }[] = [];
      let active = 0;
      let peak = 0;
      let busyMs = 0;
      let busySince = 0;
      for (const e of edges) {
        if (active === 0 && e.d > 0) busySince = e.at;
        active += e.d;
        if (active === 0) busyMs += e.at - busySince;
        peak = Math.max(peak, active);
        const last = concurrency.at(-1);
        if (last?.at === e.at) last.active = active;
        else concurrency.push({ at: e.at, active });
      }
      const total = calls.reduce((sum, c) => sum + span(c), 0);
      return {
        agent,
        calls: calls.length,
        failures: calls.filter((c) => c.status === 'error').length,
        busyMs,
        utilisation: runMs > 0 ? Math.min(1, busyMs / runMs) : 0,
        peakConcurrency: peak,
        meanCallMs: calls.length ? total / calls.length : 0,
        concurrency,
      };
    })
    .sort((a, b) => a.agent.localeCompare(b.agent));
}
