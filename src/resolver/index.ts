/**
 * The conflict resolver (`natural-delegation/resolver`): named locks with priorities, queues
 * and leases; deadlock detection on the wait-for graph or prevention (ordered acquisition,
 * wound-wait); preemption. The pure lock table, the in-process resolver the executor uses by
 * default, and the NATS service and client.
 */
export { LockTable } from './lockTable.js';
export type { LockTableOptions, NewLockRequest } from './lockTable.js';
export { findCycle as findWaitForCycle, cycleOwners } from './waitForGraph.js';
export type { WaitEdge } from './waitForGraph.js';
export { ConflictResolver } from './conflictResolver.js';
export type { ConflictResolverOptions, AcquireRequest, Lease, ConflictReport } from './conflictResolver.js';
export { serveConflictResolver } from './conflictResolverService.js';
export type { ServeConflictResolverOptions, ServedResolver } from './conflictResolverService.js';
export { RemoteConflictResolver } from './remoteConflictResolver.js';
export type { RemoteConflictResolverOptions } from './remoteConflictResolver.js';
