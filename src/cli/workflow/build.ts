import type { Agent, ResourceArbiter } from '../../core/agent.js';
import type { RunEventListener } from '../../core/events.js';
import type { RunStore } from '../../store/RunStore.js';
import { createLogger } from '../../core/logger.js';
import { PatternExecutor } from '../../runtime/PatternExecutor.js';
import { PatternRegistry } from '../../runtime/PatternRegistry.js';
import {
  MetaOrchestrationPattern,
  ParallelCoordinationPattern,
  SequentialDelegationPattern,
} from '../../runtime/patterns/index.js';
import type { FileStep } from './steps.js';
import { fileSteps } from './steps.js';
import type { PatternSpecFile, Workflow } from './schema.js';
import type { SharedBreakerGate } from '../../core/sharedBreakers.js';
import type { SharedLearningGate } from '../../core/sharedLearning.js';

/** The options a pattern class takes for one step, from the file's step. */
function stepOptions(step: FileStep) {
  return {
    name: step.name,
    ...(step.capability === undefined ? {} : { capability: step.capability }),
    ...(step.agent === undefined ? {} : { agent: step.agent }),
    ...(step.retry === undefined ? {} : { retry: step.retry }),
    ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
    ...(step.input === undefined ? {} : { input: step.input }),
    ...(step.locks === undefined ? {} : { locks: step.locks }),
    ...(step.waitFor === undefined ? {} : { waitFor: step.waitFor }),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** One pattern of the file as an instance of the matching pattern class. */
export function toPattern(name: string, spec: PatternSpecFile) {
  const description = spec.description ?? name;
  switch (spec.type) {
    case 'sequential':
      return new SequentialDelegationPattern({
        name,
        description,
        steps: fileSteps(name, spec).map(stepOptions),
        ...optional('timeoutSeconds', spec.timeoutSeconds),
        ...optional('rollbackEnabled', spec.rollbackEnabled),
        ...optional('agentMapping', spec.agentMapping),
        ...optional('domains', spec.domains),
      });
    case 'parallel':
      return new ParallelCoordinationPattern({
        name,
        description,
        tasks: fileSteps(name, spec).map((task) => ({
          ...stepOptions(task),
          ...optional('dependsOn', task.dependsOn),
          ...optional('resources', task.resources),
        })),
        ...optional('maxConcurrent', spec.maxConcurrent),
        ...optional('resourceThreshold', spec.resourceThreshold),
        ...optional('failureTolerance', spec.failureTolerance),
        ...optional('timeoutSeconds', spec.timeoutSeconds),
        ...optional('rollbackEnabled', spec.rollbackEnabled),
        ...optional('agentMapping', spec.agentMapping),
        ...optional('domains', spec.domains),
      });
    case 'meta':
      return new MetaOrchestrationPattern({
        name,
        description,
        strategy: {
          phases: spec.phases.map((phase) => ({
            name: phase.name,
            patterns: phase.patterns,
            coordination: phase.coordination,
            ...optional('successCriteria', phase.successCriteria),
            ...optional('resourceAllocation', phase.resourceAllocation),
          })),
          ...optional('rollbackStrategy', spec.rollbackStrategy),
        },
        ...optional('complexityThreshold', spec.complexityThreshold),
        ...optional('timeoutSeconds', spec.timeoutSeconds),
        ...optional('domains', spec.domains),
      });
  }
}

/** What {@link createWorkflowExecutor} wires in besides the workflow (each optional). */
export interface WorkflowExecutorWiring {
  /** Listens to every run's events. */
  onEvent?: RunEventListener | undefined;
  /** The arbiter of the steps' `locks` (default: an in-process ConflictResolver; a given one is not closed with the executor). */
  resolver?: ResourceArbiter | undefined;
  /** Where runs are journaled (durable runs). */
  store?: RunStore | undefined;
  /** Circuit breakers shared with a cluster's other workers. */
  sharedBreakers?: SharedBreakerGate | undefined;
  /** Learning shared with a cluster's other workers. */
  sharedLearning?: SharedLearningGate | undefined;
}

/**
 * A registry with every pattern of the workflow, and an executor over it with the workflow's
 * agents and breaker settings (an agent's own `breaker` merged over the top-level one), wired as
 * `wiring` says. The caller runs it and closes it.
 *
 * @throws the pattern classes' own validation errors (PatternValidationError, InvalidPatternError)
 */
export function createWorkflowExecutor(
  workflow: Workflow,
  agents: readonly Agent[],
  wiring: WorkflowExecutorWiring = {},
): PatternExecutor {
  const registry = new PatternRegistry();
  for (const [name, spec] of Object.entries(workflow.patterns))
    registry.registerPattern(toPattern(name, spec));
  const own = (agent: Agent) => workflow.agents[agent.id]?.breaker;
  const executor = new PatternExecutor(registry, {
    agents: agents.filter((agent) => own(agent) === undefined),
    logger: createLogger('ndf', 'silent'), // ndf prints runs and breaker changes itself
    ...optional('breaker', workflow.breaker),
    ...optional('onEvent', wiring.onEvent),
    ...optional('resolver', wiring.resolver),
    ...optional('store', wiring.store),
    ...optional('sharedBreakers', wiring.sharedBreakers),
    ...optional('sharedLearning', wiring.sharedLearning),
  });
  for (const agent of agents) {
    const breaker = own(agent);
    if (breaker) executor.registerAgent(agent, { breaker: { ...workflow.breaker, ...breaker } });
  }
  return executor;
}
