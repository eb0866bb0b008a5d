import type { StepSpec } from '../core/spec.js';
import { formatMs } from './machineLabels.js';

/** Percent of a 0..1 fraction, e.g. `10%`. */
export function percent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(1))}%`;
}

/**
 * The annotated label of a step or task: its name, then the agent (or capability when it
 * differs from the name), retries with backoff, timeout, locks and resources, one per line.
 */
export function stepLabel(step: StepSpec): string {
  const lines = [step.name];
  if (step.agent !== undefined) lines.push(`agent: ${step.agent}`);
  else if (step.capability !== step.name) lines.push(`capability: ${step.capability}`);
  const { maxAttempts, backoff } = step.retry;
  if (maxAttempts > 1) {
    lines.push(
      `retry: ${maxAttempts} attempts, backoff ${formatMs(backoff.initialDelayMs)} ×${backoff.multiplier} (max ${formatMs(backoff.maxDelayMs)})`,
    );
  }
  if (step.timeoutMs !== undefined) lines.push(`timeout: ${formatMs(step.timeoutMs)}`);
  if (step.locks !== undefined && step.locks.length > 0) lines.push(`locks: ${step.locks.join(', ')}`);
  if (step.resources !== undefined)
    lines.push(`cpu ${percent(step.resources.cpu)} · memory ${percent(step.resources.memory)}`);
  return lines.join('\n');
}
