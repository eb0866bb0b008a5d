import { addOutcome, emptyArm } from '../../learning/abtest/armStats.js';
import {
  initialTestState,
  lookAt,
  type Arm,
  type SequentialTestSpec,
} from '../../learning/abtest/sequentialTest.js';
import type { ABTestDefinition, ABTestRecord } from './abTestSchema.js';

/** The pure transitions of a stored A/B test: new, one outcome, promoted. */

/** The sequential-test parameters of a definition. */
export function specOf(d: ABTestDefinition): SequentialTestSpec {
  return {
    metric: d.successMetric,
    alpha: 1 - d.confidenceLevel,
    mixingSd: d.mixingSd,
    minSamplesPerArm: d.minSamplesPerArm,
  };
}

/** A running test with no outcome. */
export function newRecord(definition: ABTestDefinition, now: number): ABTestRecord {
  return {
    version: 1,
    definition,
    status: 'running',
    createdAt: now,
    promotedAt: null,
    control: emptyArm,
    treatment: emptyArm,
    sequential: initialTestState,
  };
}

/** The test after one outcome in `arm`, with the sequential test looking at it. */
export function withOutcome(
  record: ABTestRecord,
  arm: Arm,
  success: boolean,
  durationMs: number,
): ABTestRecord {
  const control = arm === 'control' ? addOutcome(record.control, success, durationMs) : record.control;
  const treatment =
    arm === 'treatment' ? addOutcome(record.treatment, success, durationMs) : record.treatment;
  const sequential = lookAt(record.sequential, specOf(record.definition), control, treatment);
  return { ...record, control, treatment, sequential };
}

/** Two definitions are the same test (defaults filled in). */
export function sameDefinition(a: ABTestDefinition, b: ABTestDefinition): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof ABTestDefinition>;
  return [...keys].every((k) => a[k] === b[k]);
}
