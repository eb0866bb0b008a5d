/**
 * Durable runs, storage foundation: journal facts, the `RunStore` interface and its in-memory
 * and embedded (file journal) implementations. Not yet wired into the executor or exported from
 * a package entry point (docs/durability.md, "Status").
 */
export * from './journal.js';
export * from './errors.js';
export type { AppendOptions, CleanupOptions, PostedRequest, RunRequest, RunStore } from './RunStore.js';
export { generateRunId } from './RunStore.js';
export type { ListRunsFilter, RunSummary, StoredRunStatus } from './summary.js';
export { MemoryRunStore, type MemoryRunStoreOptions } from './MemoryRunStore.js';
export { FileRunStore, type FileRunStoreOptions } from './FileRunStore.js';
