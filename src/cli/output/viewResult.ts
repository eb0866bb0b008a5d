import type { RunResult, StepReport } from '../../runtime/result.js';
import type { RunStatus, StepStatus } from '../../runtime/status.js';
import type { RunView } from './runView.js';

const RUN_STATUSES = new Set<string>(['succeeded', 'failed', 'timedOut', 'rolledBack']);

/**
 * A RunResult rebuilt from what the events showed, for runs whose result the executor does not
 * hand back (`executeBestPattern`, used when the workflow names no pattern). Step outputs are not
 * in events, so they are absent.
 */
export function resultFromView(view: RunView, success: boolean, message: string): RunResult {
  const steps: StepReport[] = [...view.states.values()]
    .filter((s) => s.kind === 'step')
    .map((s) => ({
      name: s.name,
      path: s.path,
      status: s.status as StepStatus,
      agent: s.agent,
      attempts: s.attempt,
      durationMs: s.startedAt === undefined ? 0 : (s.endedAt ?? view.endedAt ?? s.startedAt) - s.startedAt,
      error: s.error === undefined ? undefined : { name: 'Error', code: 'ND_AGENT_ERROR', message: s.error },
      compensation:
        s.status === 'compensated'
          ? 'compensated'
          : s.status === 'compensationFailed'
            ? 'compensationFailed'
            : 'none',
    }));
  const startedAt = view.startedAt ?? Date.now();
  const status: RunStatus = RUN_STATUSES.has(view.status)
    ? (view.status as RunStatus)
    : success
      ? 'succeeded'
      : 'failed';
  return {
    runId: view.runId ?? '-',
    pattern: view.pattern ?? '(none)',
    status,
    success,
    startedAt,
    durationMs: (view.endedAt ?? Date.now()) - startedAt,
    steps,
    error: success ? undefined : { name: 'PatternExecutionError', code: 'ND_PATTERN_EXECUTION', message },
  };
}
