import { z } from 'zod';
import { PatternValidationError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import type { DelegationPattern } from './DelegationPattern.js';
import { MetaOrchestrationPattern } from './MetaOrchestrationPattern.js';
import { ParallelCoordinationPattern } from './ParallelCoordinationPattern.js';
import { SequentialDelegationPattern } from './SequentialDelegationPattern.js';
import type { PatternSnapshot } from './snapshot.js';
import type { StepLike } from './stepOptions.js';
import { durationSeconds } from '../../core/duration.js';

type Reviver = (snapshot: PatternSnapshot) => DelegationPattern;

const common = { domains: z.array(z.string()).default([]), timeoutSeconds: durationSeconds.optional() };
const sequentialConfig = z
  .object({ steps: z.array(z.unknown()), rollbackEnabled: z.boolean(), ...common })
  .loose();
const parallelConfig = z
  .object({
    tasks: z.array(z.unknown()),
    maxConcurrent: z.number(),
    resourceThreshold: z.number(),
    failureTolerance: z.number(),
    rollbackEnabled: z.boolean(),
    resources: z.array(z.string()).default([]),
    ...common,
  })
  .loose();
const metaConfig = z
  .object({
    phases: z.array(z.object({}).loose()),
    rollbackStrategy: z.enum(['pattern_level', 'phase_level', 'complete']),
    complexityThreshold: z.number(),
    coordinatedDomains: z.array(z.string()).default([]),
    ...common,
  })
  .loose();

/** Strips undefined-valued keys of stored step specs so they read as step options. */
const asSteps = (list: unknown[]): StepLike[] =>
  list.map(
    (s) => Object.fromEntries(Object.entries(s as object).filter(([, v]) => v !== undefined)) as StepLike,
  );

const revivers = new Map<string, Reviver>([
  [
    'SequentialDelegationPattern',
    (s) => {
      const c = parseWith(sequentialConfig, s.config, `snapshot ${s.name}.config`);
      return new SequentialDelegationPattern({
        name: s.name,
        description: s.description,
        steps: asSteps(c.steps),
        rollbackEnabled: c.rollbackEnabled,
        domains: c.domains,
        ...(c.timeoutSeconds === undefined ? {} : { timeoutSeconds: c.timeoutSeconds }),
      });
    },
  ],
  [
    'ParallelCoordinationPattern',
    (s) => {
      const c = parseWith(parallelConfig, s.config, `snapshot ${s.name}.config`);
      return new ParallelCoordinationPattern({
        name: s.name,
        description: s.description,
        tasks: asSteps(c.tasks),
        maxConcurrent: c.maxConcurrent,
        resourceThreshold: c.resourceThreshold,
        failureTolerance: c.failureTolerance,
        rollbackEnabled: c.rollbackEnabled,
        resources: c.resources,
        domains: c.domains,
        ...(c.timeoutSeconds === undefined ? {} : { timeoutSeconds: c.timeoutSeconds }),
      });
    },
  ],
  [
    'MetaOrchestrationPattern',
    (s) => {
      const c = parseWith(metaConfig, s.config, `snapshot ${s.name}.config`);
      const phases = c.phases.map((p) => {
        const { resourceAllocation, ...rest } = p as Record<string, unknown>;
        return resourceAllocation === undefined ? rest : { ...rest, resourceAllocation };
      });
      return new MetaOrchestrationPattern({
        name: s.name,
        description: s.description,
        strategy: { phases: phases as never, rollbackStrategy: c.rollbackStrategy },
        complexityThreshold: c.complexityThreshold,
        coordinatedDomains: c.coordinatedDomains,
        domains: c.domains,
        ...(c.timeoutSeconds === undefined ? {} : { timeoutSeconds: c.timeoutSeconds }),
      });
    },
  ],
]);

/**
 * Teaches {@link revivePattern} to rebuild a custom pattern class from its snapshots.
 * @param type - the class name stored in snapshots (`pattern.type`)
 */
export function registerPatternType(type: string, revive: Reviver): void {
  revivers.set(type, revive);
}

/**
 * Rebuilds a pattern (configuration and learning data) from a snapshot.
 * @throws PatternValidationError for an unknown type or a malformed configuration
 */
export function revivePattern(snapshot: PatternSnapshot): DelegationPattern {
  const revive = revivers.get(snapshot.type);
  if (!revive) {
    throw new PatternValidationError(
      `Cannot revive pattern "${snapshot.name}": unknown type "${snapshot.type}" (register it with registerPatternType)`,
      { field: 'type', patternName: snapshot.name },
    );
  }
  return revive(snapshot).restoreFrom(snapshot);
}
