import type { AnyStateMachine } from 'xstate';
import {
  circuitBreakerMachine,
  customPatternMachine,
  orchestrationMachine,
  parallelMachine,
  sequentialMachine,
  stepMachine,
} from '../../machines/index.js';

/** A built-in machine `ndf diagram <name>` can draw. */
export interface BuiltInMachine {
  readonly machine: AnyStateMachine;
  readonly description: string;
}

/** The built-in machines by the name `ndf diagram` takes. */
export const builtInMachines: Readonly<Record<string, BuiltInMachine>> = {
  step: {
    machine: stepMachine,
    description: 'one step: attempts, retries with backoff, timeout, compensation',
  },
  sequential: {
    machine: sequentialMachine,
    description: 'sequential pattern: steps in order, saga rollback',
  },
  parallel: {
    machine: parallelMachine,
    description: 'parallel pattern: dependency DAG, concurrency limit, tolerance',
  },
  orchestration: {
    machine: orchestrationMachine,
    description: 'meta-orchestration: phases, criteria, rollback',
  },
  customPattern: {
    machine: customPatternMachine,
    description: 'custom pattern: a user-defined pattern run and compensated as a child',
  },
  circuitBreaker: {
    machine: circuitBreakerMachine,
    description: 'circuit breaker: closed → open → halfOpen',
  },
};
