import type { ChildPattern } from '../machines/orchestration.machine.js';
import type { ResourceCaps } from '../machines/parallel.machine.js';
import type { AgentPool } from './AgentPool.js';
import { InvalidPatternError, PatternNotFoundError } from '../core/errors.js';
import type { PatternRegistry } from './PatternRegistry.js';
import type { RunEnv } from './RunEnv.js';
import { BuiltInPattern } from './patterns/BuiltInPattern.js';
import type { DelegationPattern } from './patterns/DelegationPattern.js';

/** Which machine runs each pattern kind. */
const MACHINE_OF = { sequential: 'sequential', parallel: 'parallel', meta: 'orchestration' } as const;

/**
 * Turns a pattern (and, for a meta-orchestration, every pattern it names, recursively) into
 * the machine input of a run, checking up front that every step has a capable agent and that
 * every named pattern exists, so nothing runs when the plan cannot complete.
 *
 * @param timeouts - overall timeout of the root pattern, ms: `explicit` (the caller's) wins over
 *   the pattern's own, which wins over `fallback` (the executor's default); nested patterns use their own
 * @throws PatternNotFoundError for a phase naming an unregistered pattern
 * @throws InvalidPatternError naming the cycle when meta-orchestrations include each other
 * @param caps - cpu / memory caps from the phases that run this pattern (the lowest of nested ones)
 * @throws NoCapableAgentError naming the step and the capabilities that exist
 */
export function planRun(
  pattern: DelegationPattern,
  env: RunEnv,
  timeouts: { explicit?: number | undefined; fallback?: number | undefined },
  registry: PatternRegistry,
  pool: AgentPool,
  chain: readonly string[] = [],
  caps: ResourceCaps = {},
): ChildPattern {
  if (!(pattern instanceof BuiltInPattern))
    return {
      kind: 'customPattern',
      input: { name: pattern.name, env, timeoutMs: timeouts.explicit ?? timeouts.fallback },
    };
  if (chain.includes(pattern.name)) {
    const cycle = [...chain.slice(chain.indexOf(pattern.name)), pattern.name];
    throw new InvalidPatternError(`Meta-orchestration cycle: ${cycle.join(' -> ')}`, {
      patternName: pattern.name,
      cycle,
    });
  }
  const own = pattern.toSpec(timeouts.fallback);
  const spec = timeouts.explicit === undefined ? own : { ...own, timeoutMs: timeouts.explicit };
  if (spec.kind === 'meta') {
    const children: Record<string, ChildPattern> = {};
    for (const phase of spec.phases) {
      const phaseCaps = lowest(caps, phase.resourceAllocation);
      for (const name of phase.patterns) {
        if (!registry.has(name)) {
          throw new PatternNotFoundError(
            `Phase "${phase.name}" of "${pattern.name}" names pattern "${name}", which is not registered`,
            { patternName: name },
          );
        }
        children[name] = planRun(
          registry.getPattern(name),
          env.child(name),
          {},
          registry,
          pool,
          [...chain, pattern.name],
          phaseCaps,
        );
      }
    }
    return { kind: 'orchestration', input: { name: pattern.name, spec, env, children } };
  }
  const steps = spec.kind === 'sequential' ? spec.steps : spec.tasks;
  for (const step of steps) if (!step.waitFor) pool.check(step, env.path);
  env.run.recorder.declare(
    env.path,
    steps.map((s) => s.name),
  );
  if (spec.kind === 'parallel') return { kind: 'parallel', input: { name: pattern.name, spec, env, caps } };
  return { kind: MACHINE_OF[spec.kind], input: { name: pattern.name, spec, env } };
}

/** The lower of two caps per resource. */
function lowest(a: ResourceCaps, b: Readonly<Record<string, number>> | undefined): ResourceCaps {
  const min = (x: number | undefined, y: number | undefined) =>
    x === undefined ? y : y === undefined ? x : Math.min(x, y);
  return { cpu: min(a.cpu, b?.['cpu']), memory: min(a.memory, b?.['memory']) };
}
