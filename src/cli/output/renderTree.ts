import pc from 'picocolors';
import type { PlanNode } from './planTree.js';
import type { RunView } from './runView.js';
import { formatDuration, statusLabel } from './format.js';

/**
 * Draws the tree of phases, patterns and steps. With a view, each node shows its status, agent,
 * attempt and elapsed time (`now` for nodes still running); without one, the plan's facts.
 */
export function renderTree(root: PlanNode, view?: RunView, now: number = Date.now()): string {
  const lines: string[] = [];
  const walk = (node: PlanNode, prefix: string, last: boolean, depth: number): void => {
    const branch = depth === 0 ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
    lines.push(`${branch}${describe(node, view, now)}`);
    const childPrefix = depth === 0 ? '' : `${prefix}${last ? '   ' : '│  '}`;
    node.children.forEach((child, i) => walk(child, childPrefix, i === node.children.length - 1, depth + 1));
  };
  walk(root, '', true, 0);
  return lines.join('\n');
}

function describe(node: PlanNode, view: RunView | undefined, now: number): string {
  const label =
    node.kind === 'step' ? node.name : pc.bold(node.kind === 'phase' ? `phase ${node.name}` : node.name);
  if (!view) return node.facts.length > 0 ? `${label} ${pc.dim(`(${node.facts.join('; ')})`)}` : label;
  const state = view.state(node.key);
  if (node.kind === 'pattern') {
    const isRoot = node === view.root;
    return isRoot && view.status !== 'pending' ? `${label}  ${statusLabel(view.status)}` : label;
  }
  if (!state) return `${label}  ${statusLabel('pending')}`;
  const parts = [label, statusLabel(state.status)];
  if (state.agent) parts.push(pc.dim(`agent ${state.agent}`));
  if (state.attempt > 1) parts.push(pc.yellow(`attempt ${state.attempt}`));
  if (state.startedAt !== undefined)
    parts.push(pc.dim(formatDuration((state.endedAt ?? now) - state.startedAt)));
  if (state.error && (state.status === 'failed' || state.status === 'retrying'))
    parts.push(pc.red(truncate(state.error, 100)));
  return parts.join('  ');
}

function truncate(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
