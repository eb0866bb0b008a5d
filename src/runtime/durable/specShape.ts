import { createHash } from 'node:crypto';
import type { StepSpec } from '../../core/spec.js';
import type { ChildPattern, OrchestrationInput } from '../../machines/orchestration.machine.js';
import type { RunEnv } from '../RunEnv.js';

/**
 * The shape of a planned run for versioning: every step's journal key in declared order, with a
 * hash of what the step does. A resumed run whose shape differs from the one its journal recorded
 * is refused (unless the caller allows it), naming what changed.
 */

/** One step of a run's shape: its key (`path/step`) and a hash of its definition. */
export interface ShapeStep {
  readonly step: string;
  readonly hash: string;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function stepHash(spec: StepSpec): string {
  const { capability, agent, retry, timeoutMs, dependsOn, locks, input, waitFor } = spec;
  return sha(
    JSON.stringify({ capability, agent, retry, timeoutMs, dependsOn, locks, input, waitFor }) ?? '',
  ).slice(0, 16);
}

/** The steps of a planned run (the root's machine input), in declared order, nested patterns included. */
export function shapeOf(child: ChildPattern): ShapeStep[] {
  const out: ShapeStep[] = [];
  const visit = (c: ChildPattern): void => {
    if (c.kind === 'orchestration') {
      const input = c.input as OrchestrationInput;
      for (const phase of input.spec.phases) for (const name of phase.patterns) visit(input.children[name]!);
      return;
    }
    const input = c.input as {
      env: RunEnv;
      spec?: { steps?: readonly StepSpec[]; tasks?: readonly StepSpec[] };
    };
    if (c.kind === 'customPattern') {
      out.push({ step: input.env.stepKey('*'), hash: 'custom' });
      return;
    }
    for (const s of input.spec?.steps ?? input.spec?.tasks ?? []) {
      out.push({ step: input.env.stepKey(s.name), hash: stepHash(s) });
    }
  };
  visit(child);
  return out;
}

/** The hash of a whole shape (what `runStarted.specHash` records). */
export const shapeHash = (shape: readonly ShapeStep[]): string => `sha256:${sha(JSON.stringify(shape))}`;

/** What changed between a recorded shape and the current one; empty lists when nothing did. */
export interface ShapeChanges {
  readonly added: string[];
  readonly removed: string[];
  readonly reordered: string[];
  readonly changed: string[];
}

/** Compares the shape a run started with to the current one. */
export function diffShapes(before: readonly ShapeStep[], now: readonly ShapeStep[]): ShapeChanges {
  const was = new Map(before.map((s) => [s.step, s.hash]));
  const is = new Map(now.map((s) => [s.step, s.hash]));
  const added = now.filter((s) => !was.has(s.step)).map((s) => s.step);
  const removed = before.filter((s) => !is.has(s.step)).map((s) => s.step);
  const commonBefore = before.filter((s) => is.has(s.step)).map((s) => s.step);
  const commonNow = now.filter((s) => was.has(s.step)).map((s) => s.step);
  const reordered = commonNow.filter((step, i) => commonBefore[i] !== step);
  const changed = now.filter((s) => was.has(s.step) && was.get(s.step) !== s.hash).map((s) => s.step);
  return { added, removed, reordered, changed };
}

/** "steps added: a; removed: b" for the non-empty lists; '' when nothing changed. */
export function describeChanges(c: ShapeChanges): string {
  const parts: string[] = [];
  if (c.added.length) parts.push(`steps added: ${c.added.join(', ')}`);
  if (c.removed.length) parts.push(`steps removed: ${c.removed.join(', ')}`);
  if (c.reordered.length) parts.push(`steps reordered: ${c.reordered.join(', ')}`);
  if (c.changed.length) parts.push(`steps changed: ${c.changed.join(', ')}`);
  return parts.join('; ');
}
