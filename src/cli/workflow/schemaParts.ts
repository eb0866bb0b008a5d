import { z } from 'zod';
import { positiveDurationMs } from '../../core/duration.js';

/** Field schemas shared by the parts of the workflow file schema. */

/** An identifier (agent id, pattern or step name). */
export const name = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, 'use letters, digits, _ . : - (no spaces)')
  .describe('An identifier: letters, digits, _ . : -');
/** Optional free text. */
export const description = z.string().optional().describe('Free text shown in plans and diagrams.');
/** An agent's capabilities: a non-empty list. */
export const capabilities = z
  .array(z.string().min(1))
  .min(1)
  .describe('What the agent can do; a step needs an agent with its capability (default: the step name).');
/** Tasks an agent performs at once. */
export const maxConcurrent = z.number().int().min(1).optional().describe('Tasks the agent performs at once.');
/** A number in 0..1. */
export const fraction = z.number().min(0).max(1);
/** A positive whole number of ms, optional. */
export const timeoutMs = positiveDurationMs.optional();
/** A command line as argv (no shell). */
export const argv = z
  .array(z.string().min(1))
  .min(1)
  .describe(
    'argv, run without a shell: [executable, ...arguments]. Task data is never interpolated into it.',
  );
/** Environment variables to add. */
export const env = z
  .record(z.string(), z.string())
  .optional()
  .describe('Variables added to the environment.');
/** A working directory relative to the workflow file. */
export const cwd = z
  .string()
  .optional()
  .describe('Working directory, relative to the workflow file (default: its directory).');
