import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { Agent } from '../../core/agent.js';
import { buildAgents } from './agents.js';
import { checkAgentFiles, checkReferences } from './check.js';
import { applyStepCompensations, checkStepCompensations } from './compensation.js';
import { WorkflowError } from './issues.js';
import type { FieldPath, WorkflowIssue } from './issues.js';
import { workflowSchema } from './schema.js';
import type { Workflow } from './schema.js';
import { repairWorkflow } from './repair.js';
import type { RepairedWorkflow } from './repair.js';
import { parseWorkflowSource } from './source.js';
import { closest, knownFields } from './suggest.js';
import type { WorkflowSource } from './source.js';

/** A workflow file that passed every check, with its agents built. */
export interface LoadedWorkflow {
  /** The path as given. */
  readonly file: string;
  /** Directory of the file: relative paths in it (modules, cwd) are resolved against it. */
  readonly dir: string;
  readonly workflow: Workflow;
  /** Agents with step-level compensations applied (empty when `buildAgents` is false). */
  readonly agents: readonly Agent[];
}

/** Options of {@link loadWorkflow}. */
export interface LoadOptions {
  /**
   * Build the agents (default true): check commands, import modules, connect to NATS servers.
   * False builds none and runs no code of the file's.
   */
  readonly buildAgents?: boolean;
  /**
   * With `buildAgents: false`: still check statically that commands exist and that module and
   * `.creds` files are there (nothing is imported or contacted). `ndf validate` without `--deep`.
   */
  readonly checkFiles?: boolean;
  /** Agents from elsewhere (NATS discovery): they count in the checks and join the result. */
  readonly extraAgents?: readonly Agent[];
}

/**
 * Reads, parses and checks a workflow file: YAML syntax, the schema (unknown fields are errors),
 * references (agents, patterns, tasks), steps no agent can perform, dependency cycles, commands
 * that do not exist and modules that do not load. Every problem is located by field path and line.
 *
 * @throws WorkflowError listing every problem found (the CLI exits with code 2)
 * @example
 * const { workflow, agents } = await loadWorkflow('examples/data-pipeline/workflow.yaml');
 */
export async function loadWorkflow(file: string, options: LoadOptions = {}): Promise<LoadedWorkflow> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new WorkflowError(file, [{ path: [], message: `cannot read the workflow: ${why}` }]);
  }
  return loadWorkflowText(text, file, options);
}

/**
 * {@link loadWorkflow} of a text already read; `file` names it in issues and locates relative
 * paths (its directory).
 *
 * @throws WorkflowError listing every problem found
 */
export async function loadWorkflowText(
  text: string,
  file: string,
  options: LoadOptions = {},
): Promise<LoadedWorkflow> {
  const dir = path.dirname(path.resolve(file));
  const source = parseWorkflowSource(text);
  if (source.syntaxIssues.length > 0) throw new WorkflowError(file, source.syntaxIssues);
  if (source.value === null || source.value === undefined)
    throw new WorkflowError(file, [
      { path: [], message: 'the file is empty: expected a workflow (see docs/workflow.md)', line: 1, col: 1 },
    ]);
  const extra = options.extraAgents ?? [];
  const parsed = workflowSchema.safeParse(source.value);
  if (!parsed.success) {
    // Report every problem in one pass: check what the schema accepted as well.
    const repaired = repairWorkflow(source.value, parsed.error.issues);
    const later = repaired ? await laterIssues(repaired, dir, extra, options) : [];
    throw new WorkflowError(file, [
      ...schemaIssues(parsed.error.issues, source),
      ...locateAll(later, source),
    ]);
  }
  const workflow = parsed.data;
  const refIssues = checkReferences(workflow, extra);
  const built = options.buildAgents === false ? undefined : await buildAgents(workflow, dir);
  const issues = [
    ...refIssues,
    ...(built?.issues ?? []),
    ...(built || options.checkFiles === true ? checkStepCompensations(workflow, dir) : []),
    ...(!built && options.checkFiles === true ? checkAgentFiles(workflow, dir) : []),
  ];
  if (issues.length > 0) {
    await closeAll(built?.agents.values() ?? []);
    throw new WorkflowError(file, locateAll(issues, source));
  }
  if (!built) return { file, dir, workflow, agents: [] };
  // A declared agent wins over a discovered one with the same id.
  extra.forEach((agent) => built.agents.has(agent.id) || built.agents.set(agent.id, agent));
  return { file, dir, workflow, agents: applyStepCompensations(workflow, dir, built.agents) };
}

/** Reference, command and module problems of the part of a workflow that passed the schema. */
async function laterIssues(
  repaired: RepairedWorkflow,
  dir: string,
  extra: readonly Agent[],
  options: LoadOptions,
): Promise<WorkflowIssue[]> {
  const { workflow, droppedAgents, droppedPatterns } = repaired;
  const refs = checkReferences(workflow, [...extra, ...droppedAgents]).filter(
    (issue) => !droppedPatterns.some((name) => issue.message.startsWith(`unknown pattern "${name}"`)),
  );
  if (options.buildAgents === false)
    return options.checkFiles === true
      ? [...refs, ...checkAgentFiles(workflow, dir), ...checkStepCompensations(workflow, dir)]
      : refs;
  const built = await buildAgents(workflow, dir);
  await closeAll(built.agents.values());
  return [...refs, ...built.issues, ...checkStepCompensations(workflow, dir)];
}

async function closeAll(agents: Iterable<Agent>): Promise<void> {
  await Promise.all([...agents].map(async (agent) => agent.close?.()));
}

function locateAll(issues: readonly WorkflowIssue[], source: WorkflowSource): WorkflowIssue[] {
  return issues.map((issue) => ({ ...issue, ...source.locate(issue.path) }));
}

/** Zod issues as workflow issues; an unknown field is reported at its own key. */
function schemaIssues(
  issues: readonly z.core.$ZodIssue[],
  source: WorkflowSource,
  prefix: FieldPath = [],
): WorkflowIssue[] {
  return issues.flatMap((issue): WorkflowIssue[] => {
    const at = [...prefix, ...issue.path.filter((seg): seg is string | number => typeof seg !== 'symbol')];
    if (issue.code === 'unrecognized_keys') {
      const known = knownFields(workflowSchema, at);
      return issue.keys.map((key) => ({
        path: [...at, key],
        message: unknownField(key, known),
        ...source.locate(at, key),
      }));
    }
    const branch = issue.code === 'invalid_union' ? matchingBranch(issue.errors) : undefined;
    if (branch) return schemaIssues(branch, source, at);
    return [{ path: at, message: issue.message, ...source.locate(at) }];
  });
}

/** `unknown field`, with a "did you mean" for a near-miss of a known one. */
function unknownField(key: string, known: readonly string[]): string {
  const guess = closest(key, known);
  return guess === undefined ? 'unknown field' : `unknown field (did you mean "${guess}"?)`;
}

/**
 * Of a union's failed branches, the one whose type matched (its issues are not a type mismatch of
 * the value itself): `steps[1]` given as an object reports the object's problems, not "expected string".
 */
function matchingBranch(
  branches: readonly (readonly z.core.$ZodIssue[])[],
): readonly z.core.$ZodIssue[] | undefined {
  const typed = branches.filter(
    (issues) => !issues.some((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  return typed.length === 1 ? typed[0] : undefined;
}
