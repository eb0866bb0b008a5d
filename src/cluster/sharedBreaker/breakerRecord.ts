/** The value of one agent's key in the shared breaker bucket (JSON, validated when read). */
import { z } from 'zod';

export const breakerRecordSchema = z
  .object({
    /** `closed` admits, `open` refuses until `openedAt + recoveryTimeoutMs`, `halfOpen` has one probe out. */
    state: z.enum(['closed', 'open', 'halfOpen']),
    /** Bumped by every transition; outcomes of an older generation move nothing. */
    generation: z.number().int().nonnegative(),
    /** When the circuit opened, epoch ms on the opener's clock (open and halfOpen). */
    openedAt: z.number().int().nonnegative().optional(),
    /** Who holds the one half-open probe, and since when (its clock, epoch ms). */
    probe: z
      .object({ owner: z.string().min(1), claimedAt: z.number().int().nonnegative() })
      .strict()
      .optional(),
    /** Process that wrote this value. */
    by: z.string().min(1),
  })
  .strict();

export type BreakerRecord = z.infer<typeof breakerRecordSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const encodeBreaker = (r: BreakerRecord): Uint8Array => encoder.encode(JSON.stringify(r));

/** The record, or undefined when the bytes are not one (treated as closed by readers). */
export function decodeBreaker(data: Uint8Array): BreakerRecord | undefined {
  try {
    const parsed = breakerRecordSchema.safeParse(JSON.parse(decoder.decode(data)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
