/** A submitted run as it travels on the work queue (JSON, validated on both ends). */
import { z } from 'zod';
import { runIdSchema } from '../../store/journal.js';

/** What `submitRun` accepts: the run id is generated when omitted. */
export const submitRunSchema = z
  .object({
    /** Run id; submitting one that was already submitted enqueues nothing new. */
    runId: runIdSchema.optional(),
    /** Pattern to run. */
    pattern: z.string().min(1),
    /** Run input (JSON). */
    input: z.json().optional(),
    /** Run context values (JSON). */
    context: z.record(z.string(), z.json()).optional(),
    /** Overall timeout of the run, ms (default: the pattern's own). */
    timeoutMs: z.number().int().positive().optional(),
  })
  .strict();

export type SubmitRunInput = z.input<typeof submitRunSchema>;

/** A job on the queue. */
export const runJobSchema = z
  .object({
    runId: runIdSchema,
    pattern: z.string().min(1),
    input: z.json().optional(),
    context: z.record(z.string(), z.json()).optional(),
    timeoutMs: z.number().int().positive().optional(),
    /** Submitter's clock, epoch ms. */
    submittedAt: z.number().int().nonnegative(),
  })
  .strict();

export type RunJob = z.infer<typeof runJobSchema>;
