/**
 * natural-delegation: an actor-model runtime that delegates work to agents.
 * Patterns, steps and circuit breakers are XState v5 machines spawned as actors.
 */
export { PatternRegistry } from './runtime/PatternRegistry.js';
export type { PatternRegistryOptions } from './runtime/PatternRegistry.js';
export { PatternExecutor } from './runtime/PatternExecutor.js';
export type { ExecutorOptions, RunOptions } from './runtime/PatternExecutor.js';
export { PatternStorage } from './runtime/PatternStorage.js';
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
export { successRateScorer } from './learning/confidence.js';
export type { ConfidenceScorer } from './learning/confidence.js';
export type { Outcome, OutcomeStats } from './learning/outcomes.js';
export { CircuitBreaker, breakerOptionsSchema } from './runtime/CircuitBreaker.js';
export type {
  BreakerMetrics,
  BreakerOptionsInput,
  BreakerState,
  BreakerStateChange,
} from './runtime/CircuitBreaker.js';
export { defineAgent } from './actors/agent.js';
export type {
  Agent,
  AgentTask,
  CompensationTask,
  LocalAgentOptions,
  ResourceArbiter,
  StepInput,
} from './actors/agent.js';
export { AttemptCancellation, withCancellation } from './actors/cancellation.js';
export type { CancellationSignal } from './actors/cancellation.js';
export { StepStatus, TaskStatus, RunStatus } from './runtime/status.js';
export type { RunResult, StepReport } from './runtime/result.js';
export type { RunEvent, RunEventListener } from './runtime/events.js';
export { systemClock } from './runtime/clock.js';
export type { Clock } from './runtime/clock.js';
export { backoffDelayMs } from './runtime/backoff.js';
export type { BackoffInput, RetryPolicyInput, StepSpec, PatternSpec } from './runtime/spec.js';
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
} from './runtime/errors.js';
export type { ErrorDetails, SerializedError } from './runtime/errors.js';
export {
  fromMachine,
  fromPattern,
  fromPatterns,
  fromTrace,
  parseTrace,
  TraceParseError,
  toMermaid,
  toDot,
  renderSvg,
  statusStyle,
} from './runtime/diagram/index.js';
export type { Diagram, DiagramNode, DiagramEdge, DiagramStatus } from './runtime/diagram/index.js';
export { MemoryTransport } from './runtime/transport/MemoryTransport.js';
export type { MemoryTransportOptions } from './runtime/transport/MemoryTransport.js';
export { NatsTransport } from './runtime/transport/NatsTransport.js';
export { natsTransportOptionsSchema } from './runtime/transport/natsOptions.js';
export type { NatsTransportOptions, NatsTransportOptionsInput } from './runtime/transport/natsOptions.js';
export { TransportError, isTransportError } from './runtime/transport/Transport.js';
export type {
  Transport,
  TransportStatus,
  TransportStatusListener,
  TransportErrorKind,
} from './runtime/transport/Transport.js';
export { connectRemoteAgents } from './runtime/transport/connectRemoteAgents.js';
export type { ConnectRemoteAgentsOptions, RemoteAgents } from './runtime/transport/connectRemoteAgents.js';
export {
  PROTOCOL_VERSION,
  ProtocolHeader,
  protocolSubjects,
  taskRequestSchema,
  taskReplySchema,
  cancelSchema,
  decodeMessage,
  toTaskRequest,
} from './runtime/protocol.js';
export type { TaskRequest, TaskReply, CancelMessage, WireError } from './runtime/protocol.js';
export { httpAgent } from './actors/httpAgent.js';
export type { HttpAgentOptions } from './actors/httpAgent.js';
export { remoteAgent } from './actors/remoteAgent.js';
export type { RemoteAgentOptions } from './actors/remoteAgent.js';
export { serveAgent } from './actors/serveAgent.js';
export type { ServeAgentOptions, ServedAgent, ServedAgentStats } from './actors/serveAgent.js';
export { discoverAgents, agentsFromDiscovery } from './actors/discoverAgents.js';
export type { DiscoveredAgent, AgentInstance } from './actors/discoverAgents.js';
export { ConflictResolver } from './actors/conflictResolver.js';
export type {
  ConflictResolverOptions,
  AcquireRequest,
  Lease,
  ConflictReport,
} from './actors/conflictResolver.js';
export { serveConflictResolver } from './actors/conflictResolverService.js';
export type { ServeConflictResolverOptions, ServedResolver } from './actors/conflictResolverService.js';
export { RemoteConflictResolver } from './actors/remoteConflictResolver.js';
export type { RemoteConflictResolverOptions } from './actors/remoteConflictResolver.js';
