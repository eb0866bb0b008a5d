import type { Diagram } from '../diagram/index.js';

/**
 * Which diagram nodes stand for which step, so the page can colour a diagram by the steps'
 * live states. Pure.
 */

/** The key of a step in a run: its pattern path and name, as JSON (`["etl","load"]`). */
export function stepKey(path: readonly string[], step: string): string {
  return JSON.stringify([...path, step]);
}

/** A diagram node that shows a step: the step itself, or (sequential patterns) its compensation. */
export interface StepNode {
  readonly key: string;
  readonly role: 'step' | 'compensation';
}

const decode = (s: string): string => decodeURIComponent(s);

/**
 * The step a node id of `fromPattern` or `fromTrace` (src/diagram) stands for, or undefined
 * (patterns, phases, start and end states). `fromPattern` ids are `p:<pattern>` then
 * `ph:<phase>/pt:<pattern>` per meta level, then `s:<step>` (or `c:<step>`, its compensation);
 * `fromTrace` ids are `run/<pattern>/…/<pattern>/s:<step>`; every name is URI-encoded.
 */
export function stepNodeOf(nodeId: string): StepNode | undefined {
  const parts = nodeId.split('/');
  const last = parts[parts.length - 1] ?? '';
  const role = last.startsWith('s:') ? 'step' : last.startsWith('c:') ? 'compensation' : undefined;
  if (role === undefined) return undefined;
  const path: string[] = [];
  const inner = parts.slice(0, -1);
  if (inner[0] === 'run') path.push(...inner.slice(1).map(decode));
  else
    for (const part of inner) {
      if (part.startsWith('p:')) path.push(decode(part.slice(2)));
      else if (part.startsWith('pt:')) path.push(decode(part.slice(3)));
    }
  if (path.length === 0) return undefined;
  return { key: stepKey(path, decode(last.slice(2))), role };
}

/** Every step node of `diagram`, by node id (the `<title>` of its SVG group). */
export function stepNodes(diagram: Diagram): Record<string, StepNode> {
  const out: Record<string, StepNode> = {};
  for (const node of diagram.nodes) {
    const step = node.kind === 'state' ? stepNodeOf(node.id) : undefined;
    if (step !== undefined) out[node.id] = step;
  }
  return out;
}
