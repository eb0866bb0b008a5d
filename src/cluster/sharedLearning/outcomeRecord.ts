/** One message of the shared learning stream: an outcome and the process that learned it (JSON, validated when read). */
import { z } from 'zod';
import type { SharedOutcome } from '../../core/sharedLearning.js';

const epochMs = z.number().int().nonnegative();
const ms = z.number().finite().nonnegative();

export const outcomeRecordSchema = z
  .object({
    /** Process that published it (its outcomes are not applied back to it). */
    by: z.string().min(1),
    outcome: z.discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('agent'),
          capability: z.string().min(1),
          agent: z.string().min(1),
          at: epochMs,
          success: z.boolean(),
          latencyMs: ms,
          context: z
            .object({
              domain: z.string().min(1),
              agentType: z.string().min(1),
              attributes: z.record(z.string(), z.unknown()).optional(),
            })
            .strict()
            .optional(),
        })
        .strict(),
      z
        .object({
          kind: z.literal('pattern'),
          pattern: z.string().min(1),
          domain: z.string().optional(),
          success: z.boolean(),
          durationMs: ms,
          at: epochMs,
        })
        .strict(),
    ]),
  })
  .strict();

export interface OutcomeRecord {
  readonly by: string;
  readonly outcome: SharedOutcome;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const encodeOutcome = (r: OutcomeRecord): Uint8Array => encoder.encode(JSON.stringify(r));

/**
 * The record in `data`.
 * @throws Error naming what is wrong when the bytes are not a valid record
 */
export function decodeOutcome(data: Uint8Array): OutcomeRecord {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`);
  }
  const parsed = outcomeRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
