/**
 * The pure XState v5 machines of natural-delegation (`natural-delegation/machines`). None does
 * I/O: the runtime provides the actions and actors they name (`startAttempt`, `compensateStep`,
 * …) and spawns them.
 */
export { stepMachine, stepCompensationMachine, NO_TIMEOUT_MS } from './step.machine.js';
export type {
  AttemptEvent,
  StepAttemptOutput,
  StepCompensationInput,
  StepCompletedEvent,
  StepContext,
  StepEvent,
  StepFinalOutput,
  StepMachineInput,
} from './step.machine.js';
export { sequentialMachine } from './sequential.machine.js';
export type { SequentialContext, SequentialInput } from './sequential.machine.js';
export { parallelMachine, runnableTasks, dependentsOf, taskIndex, taskStatus } from './parallel.machine.js';
export type { ParallelContext, ParallelInput } from './parallel.machine.js';
export { orchestrationMachine } from './orchestration.machine.js';
export type {
  ChildPattern,
  OrchestrationContext,
  OrchestrationInput,
  PhaseState,
  PhaseStatus,
  RollbackEvent,
} from './orchestration.machine.js';
export { customPatternMachine } from './customPattern.machine.js';
export type { CustomPatternInput, CustomRunOutput } from './customPattern.machine.js';
export { evaluateCriteria, criteriaUnreachable } from './phaseCriteria.js';
export type { CriteriaVerdict, PatternOutcome } from './phaseCriteria.js';
export type { PatternFinalOutput, PatternSucceededEvent, PatternControlEvent } from './pattern.types.js';
export { circuitBreakerMachine, failureTrips } from './circuitBreaker.machine.js';
export type {
  CircuitBreakerContext,
  CircuitBreakerCounters,
  CircuitBreakerEvent,
  CircuitBreakerInput,
  CircuitBreakerOptions,
} from './circuitBreaker.machine.js';
