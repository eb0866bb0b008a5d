import Table from 'cli-table3';
import pc from 'picocolors';
import type { RunResult, StepReport } from '../../core/result.js';
import { colorStatus, formatDuration, statusLabel } from './format.js';
import { redactText } from '../../core/redact.js';

/**
 * The end-of-run summary: one row per step (status, agent, attempts, duration, compensation),
 * then the run's outcome and, when it failed, why.
 */
export function renderSummary(result: RunResult): string {
  const color = pc.isColorSupported;
  const table = new Table({
    head: ['Step', 'Status', 'Agent', 'Attempts', 'Duration', 'Compensation'],
    style: { compact: true, head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
  });
  for (const step of result.steps) {
    table.push([
      stepLabel(step),
      statusLabel(step.status),
      step.agent ?? pc.dim('—'),
      String(step.attempts),
      formatDuration(step.durationMs),
      compensationLabel(step),
    ]);
  }
  const outcome = `${pc.bold(result.pattern)} ${statusLabel(result.status)} in ${formatDuration(result.durationMs)} (run ${result.runId})`;
  const failed = result.steps.filter((s) => s.status === 'failed' && s.error);
  const reasons = [
    ...(result.error ? [`${pc.red('error:')} ${result.error.message}`] : []),
    ...failed
      .filter((s) => s.error?.message !== result.error?.message)
      .map((s) => `${pc.red('✖')} ${s.name}: ${s.error?.message ?? ''}`),
  ];
  // errors name URLs (an HTTP agent's), which may carry credentials
  return redactText([table.toString(), outcome, ...reasons].join('\n'));
}

function stepLabel(step: StepReport): string {
  const parents = step.path.slice(1);
  return parents.length > 0 ? `${pc.dim(`${parents.join(' › ')} › `)}${step.name}` : step.name;
}

function compensationLabel(step: StepReport): string {
  if (step.compensation === 'none') return pc.dim('—');
  const text = step.compensation === 'compensated' ? 'undone' : 'undo failed';
  const why = step.compensationError ? `: ${step.compensationError.message.slice(0, 80)}` : '';
  return colorStatus(step.compensation, `${text}${why}`);
}
