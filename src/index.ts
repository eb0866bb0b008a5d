/**
 * natural-delegation: an actor-model runtime that delegates work to agents.
 * Patterns, steps and circuit breakers are XState v5 machines spawned as actors.
 */
export { PatternRegistry } from './runtime/PatternRegistry.js';
export type { PatternRegistryOptions } from './runtime/PatternRegistry.js';
export { PatternExecutor } from './runtime/PatternExecutor.js';
export type { ExecutorOptions, RunOptions } from './runtime/PatternExecutor.js';
export type {
  ForkOptions,
  RecoveredRun,
  ResumeOptions,
  SignalDelivery,
} from './runtime/durable/DurableRuns.js';
export type { RunDetails } from './runtime/durable/runDetails.js';
export type { InspectObserver } from './runtime/executor/inspectObservers.js';
export { PatternStorage } from './runtime/PatternStorage.js';
export {
  ABTester,
  type ABTesterOptions,
  type ABTestDefinitionInput,
  type ABTestResults,
  type ABTestArmResults,
  type ABTestEffect,
  type ABTestExecution,
} from './runtime/abtest/ABTester.js';
export { PatternConfig } from './runtime/PatternConfig.js';
export type { PatternConfigValues } from './runtime/PatternConfig.js';
export { PatternContext, patternContextSchema } from './runtime/PatternContext.js';
export type { PatternContextData, PatternContextInput } from './runtime/PatternContext.js';
export {
  DelegationPattern,
  BuiltInPattern,
  SequentialDelegationPattern,
  ParallelCoordinationPattern,
  MetaOrchestrationPattern,
  revivePattern,
  registerPatternType,
  contextComplexity,
} from './runtime/patterns/index.js';
export type {
  SequentialPatternOptions,
  ParallelPatternOptions,
  MetaPatternOptions,
  MetaStrategy,
  StepOptions,
  StepLike,
  PhaseProgress,
  PatternSnapshot,
  Snapshottable,
} from './runtime/patterns/index.js';
export { ConfidenceLevel } from './learning/ConfidenceLevel.js';
export { PatternAnalytics } from './learning/analytics.js';
export type { TrendAnalysis } from './learning/analytics.js';
export {
  successRateScorer,
  confidenceScorer,
  simpleAverageScorer,
  weightedAverageScorer,
  adaptiveBayesScorer,
} from './learning/confidence.js';
export type { ConfidenceScorer, ConfidenceAlgorithm, ScorerOptions } from './learning/confidence.js';
export { LearningConfig } from './runtime/LearningConfig.js';
export { ArmLearner } from './learning/ArmLearner.js';
export type { ArmOutcome, ArmView, ArmCellSummary } from './learning/ArmLearner.js';
export { decide, probabilityBest } from './learning/decide.js';
export type { Decision, Exclusion } from './learning/decide.js';
export { cellPath, cellSimilarity } from './learning/cells.js';
export type { CellContext } from './learning/cells.js';
export { defaultLearningParams, learningParamsSchema } from './learning/params.js';
export type { LearningParams } from './learning/params.js';
export { seededRandom, sampleBeta } from './learning/random.js';
export type { Random } from './learning/random.js';
export type { Outcome, OutcomeStats } from './learning/outcomes.js';
export { CircuitBreaker, breakerOptionsSchema } from './runtime/CircuitBreaker.js';
export type {
  BreakerMetrics,
  BreakerOptionsInput,
  BreakerState,
  BreakerStateChange,
} from './runtime/CircuitBreaker.js';
export { defineAgent } from './actors/agent.js';
export type { LocalAgentOptions } from './actors/agent.js';
export type {
  Agent,
  AgentTask,
  CompensationTask,
  ResourceArbiter,
  StepInput,
  TraceContext,
} from './core/agent.js';
export { ExecutionTracer } from './tracing/ExecutionTracer.js';
export type { ExecutionTracerOptions } from './tracing/ExecutionTracer.js';
export { TraceLevel } from './tracing/levels.js';
export { memorySink } from './tracing/memorySink.js';
export type { TraceSink, TraceSpan } from './tracing/span.js';
export { AttemptCancellation, withCancellation } from './core/cancellation.js';
export type { CancellationSignal } from './core/cancellation.js';
export { StepStatus, TaskStatus, RunStatus } from './core/status.js';
export type { RunResult, StepReport } from './core/result.js';
export type { RunEvent, RunEventListener, DecisionRecord } from './core/events.js';
export { systemClock } from './core/clock.js';
export type { Clock } from './core/clock.js';
export { backoffDelayMs } from './core/backoff.js';
export type { BackoffInput, RetryPolicyInput, StepSpec, PatternSpec } from './core/spec.js';
export {
  ErrorCode,
  PatternError,
  PatternNotFoundError,
  PatternExecutionError,
  NoCapableAgentError,
  ConfidenceThresholdError,
  ResourceExhaustionError,
  PatternValidationError,
  PatternAlreadyExistsError,
  InvalidPatternError,
  PatternTimeoutError,
  PatternTimeoutError as TimeoutError,
  CircuitOpenError,
  AgentError,
  errorFromJSON,
  toSerializedError,
  isPatternError,
  isPatternNotFoundError,
  isPatternExecutionError,
  isNoCapableAgentError,
  isConfidenceThresholdError,
  isResourceExhaustionError,
  isPatternValidationError,
  isPatternAlreadyExistsError,
  isInvalidPatternError,
  isTimeoutError,
  isCircuitOpenError,
  isAgentError,
} from './core/errors.js';
export type { ErrorDetails, SerializedError } from './core/errors.js';
export { httpAgent } from './actors/httpAgent.js';
export type { HttpAgentOptions } from './actors/httpAgent.js';
export { ConflictResolver } from './resolver/conflictResolver.js';
export type {
  ConflictResolverOptions,
  AcquireRequest,
  Lease,
  ConflictReport,
} from './resolver/conflictResolver.js';
