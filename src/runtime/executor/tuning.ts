import { getHeapStatistics } from 'node:v8';
import { z } from 'zod';
import { durationSeconds } from '../../core/duration.js';

/** The reference's execution tuning (`configureExecution`) and memory figure. */

export const executionTuningSchema = z
  .object({
    threadPoolSize: z.number().int().min(1).optional(),
    /** Default pattern timeout, seconds. */
    timeoutDefault: durationSeconds.optional(),
    memoryLimitMb: z.number().positive().optional(),
  })
  .strict();

/** Options of `PatternExecutor.configureExecution`. */
export type ExecutionTuning = z.input<typeof executionTuningSchema>;

/** Heap in use / heap limit of this process, 0..1. */
export function heapUsage(): number {
  const h = getHeapStatistics();
  return h.used_heap_size / h.heap_size_limit;
}
