/** The value of one key of the lease bucket, as JSON (validated when read). */
import { z } from 'zod';
import { parseWith } from '../../core/validate.js';

export const leaseRecordSchema = z
  .object({
    /** Who holds the lease. */
    owner: z.string().min(1),
    /** The holding `Lease` instance (random): tells a renewal whose reply was lost from a takeover. */
    holder: z.string().min(1),
    /** TTL the holder renews within, ms: contenders take over after observing no renewal for this long. */
    ttlMs: z.number().int().positive(),
    /** Holder's clock + ttlMs at the write, epoch ms; informational (takeover never compares clocks). */
    expiresAt: z.number().int().nonnegative(),
  })
  .strict();

export type LeaseRecord = z.infer<typeof leaseRecordSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const encodeLease = (record: LeaseRecord): Uint8Array => encoder.encode(JSON.stringify(record));

/**
 * Decodes a lease value.
 * @throws PatternValidationError naming `where` when it is not one
 */
export function decodeLease(data: Uint8Array, where: string): LeaseRecord {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    json = undefined;
  }
  return parseWith(leaseRecordSchema, json, where);
}
