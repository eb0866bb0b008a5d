import type { z } from 'zod';
import type { FieldPath } from './issues.js';
import { workflowSchema } from './schema.js';
import type { Workflow } from './schema.js';
import type { AgentRef } from './steps.js';

/** A workflow rebuilt from a file that failed the schema, so the later checks can still run. */
export interface RepairedWorkflow {
  readonly workflow: Workflow;
  /** Agents left out because their entry is invalid, with the capabilities they list (if readable). */
  readonly droppedAgents: readonly AgentRef[];
  /** Patterns left out because their entry is invalid. */
  readonly droppedPatterns: readonly string[];
}

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Drops what the schema rejected so that references, commands and modules can be checked in
 * the same pass: unknown fields are removed (they have no effect), an agent or pattern entry
 * with any other problem is left out whole (references to it are not reported: it exists, only
 * broken), and an invalid optional field of `run`, `breaker` is removed. Undefined when what
 * remains still fails (e.g. `agents` is not a map).
 */
export function repairWorkflow(
  value: unknown,
  issues: readonly z.core.$ZodIssue[],
): RepairedWorkflow | undefined {
  if (!isObj(value)) return undefined;
  const copy = structuredClone(value);
  const agents = new Set<string>();
  const patterns = new Set<string>();
  for (const issue of issues) {
    const path = issue.path.filter((seg): seg is string | number => typeof seg !== 'symbol');
    const [top, entry] = path;
    if (issue.code === 'unrecognized_keys') {
      const holder = at(copy, path);
      if (isObj(holder)) issue.keys.forEach((key) => delete holder[key]);
    } else if (top === 'agents' && typeof entry === 'string') agents.add(entry);
    else if (top === 'patterns' && typeof entry === 'string') patterns.add(entry);
    else if (top === 'version') copy['version'] = 1;
    else if (top === 'name') copy['name'] = 'workflow';
    else if ((top === 'run' || top === 'breaker') && path.length >= 2) removeAt(copy, path.slice(0, 2));
  }
  const droppedAgents = [...agents].map((id) => ({
    id,
    capabilities: capabilitiesOf(at(copy, ['agents', id])),
  }));
  for (const id of agents) removeAt(copy, ['agents', id]);
  for (const name of patterns) removeAt(copy, ['patterns', name]);
  const parsed = workflowSchema.safeParse(copy);
  if (!parsed.success) return undefined;
  return { workflow: parsed.data, droppedAgents, droppedPatterns: [...patterns] };
}

function at(root: unknown, path: FieldPath): unknown {
  return path.reduce<unknown>(
    (node, seg) => (isObj(node) || Array.isArray(node) ? (node as Obj)[seg] : undefined),
    root,
  );
}

function removeAt(root: Obj, path: FieldPath): void {
  const holder = at(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (isObj(holder) && last !== undefined) delete holder[last];
}

function capabilitiesOf(spec: unknown): string[] {
  const caps = isObj(spec) ? spec['capabilities'] : undefined;
  return Array.isArray(caps) ? caps.filter((c): c is string => typeof c === 'string') : [];
}
