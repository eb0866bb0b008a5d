import pc from 'picocolors';
import type { LoadedWorkflow } from '../workflow/load.js';
import type { PlanNode } from './planTree.js';
import { renderTree } from './renderTree.js';
import { redactText } from '../../core/redact.js';

/** What `ndf run --dry-run` prints: the agents, the tree of what would run, the run input. */
export function renderPlan(loaded: LoadedWorkflow, plan: PlanNode, input: unknown): string {
  const { workflow } = loaded;
  const agents = Object.entries(workflow.agents).map(([id, spec]) => {
    const how =
      spec.kind === 'command'
        ? spec.command.join(' ')
        : spec.kind === 'module'
          ? spec.module
          : spec.kind === 'http'
            ? redactText(spec.url)
            : `nats ${spec.agentId ?? id}${spec.servers ? ` at ${redactText(String(spec.servers))}` : ''}`;
    return `  ${pc.bold(id)} ${pc.dim(`[${spec.kind}]`)} ${spec.capabilities.join(', ')} ${pc.dim(`← ${how}`)}`;
  });
  const breaker = workflow.breaker
    ? [`${pc.bold('Circuit breaker:')} ${JSON.stringify(workflow.breaker)}`]
    : [];
  const run = workflow.run;
  const what =
    run.pattern !== undefined ? `pattern ${run.pattern}` : `best pattern for ${JSON.stringify(run.context)}`;
  return [
    `${pc.bold('Workflow')} ${workflow.name}${workflow.description ? pc.dim(` — ${workflow.description}`) : ''} ${pc.dim(`(${loaded.file})`)}`,
    `${pc.bold('Agents:')}`,
    ...agents,
    ...breaker,
    `${pc.bold('Runs')} ${what}${run.timeoutMs !== undefined ? ` (timeout ${run.timeoutMs} ms)` : ''}:`,
    renderTree(plan),
    `${pc.bold('Input:')} ${JSON.stringify(input) ?? 'none'}`,
    pc.green('✔ valid; nothing was run (--dry-run)'),
  ].join('\n');
}
