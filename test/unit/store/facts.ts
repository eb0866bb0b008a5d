/** Journal facts for the store tests. */
import type { JournalFact } from '../../../src/store/journal.js';

export const started = (pattern = 'deploy', at = 1_000, input: unknown = { version: '1.2.3' }): JournalFact =>
  ({
    kind: 'runStarted',
    pattern,
    specHash: 'sha256:abc',
    input,
    context: { env: 'test' },
    at,
  }) as JournalFact;

export const dispatched = (step: string, attempt = 1): JournalFact => ({
  kind: 'attemptDispatched',
  step,
  attempt,
  agent: 'builder',
  idempotencyKey: `${step}#${attempt}`,
  deadlineAt: 99_000,
});

export const completed = (step: string, output: unknown = { ok: true }, attempt = 1): JournalFact =>
  ({ kind: 'stepCompleted', step, attempt, output }) as JournalFact;

export const finishedResult = (runId: string, pattern = 'deploy') => ({
  runId,
  pattern,
  status: 'succeeded' as const,
  success: true,
  startedAt: 1_000,
  durationMs: 4_000,
  steps: [],
});

export const finished = (runId: string, pattern = 'deploy', at = 5_000): JournalFact => ({
  kind: 'runFinished',
  at,
  result: finishedResult(runId, pattern),
});
