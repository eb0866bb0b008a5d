/**
 * Remote agents, the conflict resolver and scaling out over NATS (`natural-delegation/nats`): the transports
 * (NATS, and an in-memory one with the same subject semantics for tests), agents served and
 * called over them, discovery, the remote conflict resolver, and the cluster pieces (JetStream run
 * store, leases, work queue, workers, `ClusterClient`; docs/scaling.md). The wire format is in
 * `natural-delegation/protocol` and docs/protocol.md.
 */
export { MemoryTransport } from './transport/MemoryTransport.js';
export type { MemoryTransportOptions } from './transport/MemoryTransport.js';
export { NatsTransport } from './transport/NatsTransport.js';
export { natsTransportOptionsSchema } from './transport/natsOptions.js';
export type { NatsTransportOptions, NatsTransportOptionsInput } from './transport/natsOptions.js';
export { TransportError, isTransportError } from './transport/Transport.js';
export type {
  Transport,
  TransportStatus,
  TransportStatusListener,
  TransportErrorKind,
} from './transport/Transport.js';
export { connectRemoteAgents } from './transport/connectRemoteAgents.js';
export type { ConnectRemoteAgentsOptions, RemoteAgents } from './transport/connectRemoteAgents.js';
export { remoteAgent } from './actors/remoteAgent.js';
export type { RemoteAgentOptions } from './actors/remoteAgent.js';
export { serveAgent } from './actors/serveAgent.js';
export type { ServeAgentOptions, ServedAgent, ServedAgentStats } from './actors/serveAgent.js';
export { discoverAgents, agentsFromDiscovery } from './actors/discoverAgents.js';
export type { DiscoveredAgent, AgentInstance } from './actors/discoverAgents.js';
export { serveConflictResolver } from './resolver/conflictResolverService.js';
export type { ServeConflictResolverOptions, ServedResolver } from './resolver/conflictResolverService.js';
export { RemoteConflictResolver } from './resolver/remoteConflictResolver.js';
export type { RemoteConflictResolverOptions } from './resolver/remoteConflictResolver.js';
export { JetStreamRunStore } from './store/jetstream/JetStreamRunStore.js';
export type {
  JetStreamRunStoreOptions,
  JetStreamAppendOptions,
  AppendFence,
} from './store/jetstream/JetStreamRunStore.js';
export { LeaseManager } from './cluster/leases/LeaseManager.js';
export type { LeaseManagerOptions, LeaseHolder } from './cluster/leases/LeaseManager.js';
export type { Lease } from './cluster/leases/Lease.js';
export { LeaseLostError, isLeaseLostError } from './cluster/errors.js';
export type { LeaseLossReason } from './cluster/errors.js';
export { WorkQueue } from './cluster/workQueue/WorkQueue.js';
export type { WorkQueueOptions, Submitted } from './cluster/workQueue/WorkQueue.js';
export type { QueueConsumer, ConsumeOptions, JobInfo } from './cluster/workQueue/QueueConsumer.js';
export type { RunJob, SubmitRunInput } from './cluster/workQueue/job.js';
export { SharedBreakerBoard } from './cluster/sharedBreaker/SharedBreakerBoard.js';
export type {
  SharedBreakerBoardOptions,
  SharedBreakerState,
  SharedAdmission,
  SharedBreakerListener,
} from './cluster/sharedBreaker/SharedBreakerBoard.js';
export type { SharedBreakerGate } from './core/sharedBreakers.js';
export { SharedLearningFeed } from './cluster/sharedLearning/SharedLearningFeed.js';
export type { SharedLearningFeedOptions } from './cluster/sharedLearning/SharedLearningFeed.js';
export type { SharedLearningGate, SharedOutcome } from './core/sharedLearning.js';
export { startWorker } from './cluster/worker/startWorker.js';
export type { WorkerOptions, Worker } from './cluster/worker/startWorker.js';
export { ClusterClient } from './cluster/worker/ClusterClient.js';
export type { SubmittedRun, ControlDelivery, WaitOptions } from './cluster/worker/ClusterClient.js';
export { FencedRunStore } from './cluster/worker/FencedRunStore.js';
export type { FenceMode } from './cluster/worker/FencedRunStore.js';
export type { ControlRequest, ControlReply } from './cluster/worker/runControl.js';
