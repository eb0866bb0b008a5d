/**
 * `natural-delegation/store`: run stores for durable runs (docs/durability.md): journal facts, the
 * `RunStore` interface, the in-memory store and the embedded file journal. Give one to
 * `new PatternExecutor(registry, { store })`. The JetStream store is in `natural-delegation/nats`.
 */
export * from './journal.js';
export * from './errors.js';
export type { AppendOptions, CleanupOptions, PostedRequest, RunRequest, RunStore } from './RunStore.js';
export type { RunDetails, StepDetails, AttemptDetails } from '../runtime/durable/runDetails.js';
export { generateRunId } from './RunStore.js';
export type { ListRunsFilter, RunSummary, StoredRunStatus } from './summary.js';
export { MemoryRunStore, type MemoryRunStoreOptions } from './MemoryRunStore.js';
export { FileRunStore, type FileRunStoreOptions } from './FileRunStore.js';
