import type { Agent, AgentTask } from '../../src/actors/agent.js';

/** Runs attempts 1..maxAttempts of one step with the same idempotency key, as the executor does. */
export async function executeWithRetry(
  agent: Agent,
  base: Omit<AgentTask, 'attempt' | 'signal'>,
  maxAttempts: number,
): Promise<{ output: unknown; attempts: number; errors: string[] }> {
  const errors: string[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const output = await agent.execute({ ...base, attempt, signal: new AbortController().signal });
      return { output, attempts: attempt, errors };
    } catch (error) {
      errors.push((error as Error).message);
      const retryable = (error as { details?: { retryable?: boolean } }).details?.retryable !== false;
      if (!retryable || attempt === maxAttempts) throw error;
    }
  }
  throw new Error('unreachable');
}

/** A task for step `step` of run `runId`. */
export function baseTask(
  runId: string,
  step: string,
  params: unknown = null,
): Omit<AgentTask, 'attempt' | 'signal'> {
  return {
    runId,
    pattern: 'integration',
    step,
    capability: 'echo',
    idempotencyKey: `${runId}/${step}`,
    input: { params, runInput: null, results: {} },
    context: { domain: 'general', agentType: 'general', priority: 1, attributes: {} },
  };
}
