/**
 * Wire messages of the conflict resolver service (version 1, see docs/protocol.md): requests on
 * `<prefix>.resolver.<op>` and grant/rejection/revocation events on
 * `<prefix>.resolver.events.<session>`. Validated with zod like the task protocol.
 */
import { z } from 'zod';
import { PROTOCOL_VERSION, wireErrorSchema } from '../protocol/protocol.js';

const v = z.literal(PROTOCOL_VERSION);
const session = z.string().regex(/^[-\w]+$/, 'letters, digits, - and _ only (a subject token)');

/** `acquire`: queue a request; answered at once with `queued` or `granted` (later changes come as events). */
export const acquireMessageSchema = z.object({
  version: v,
  session,
  requestId: z.string().min(1),
  owner: z.string().min(1),
  names: z.array(z.string().min(1)).min(1).max(256),
  priority: z.number().int().min(1).max(5),
  deadline: z.number().nonnegative().nullish(),
  /** Lease length, ms: renew the session within it or lose every holding. */
  leaseMs: z.number().int().positive().max(3_600_000),
});
/** `release`: release a holding or cancel a waiting request. */
export const releaseMessageSchema = z.object({ version: v, session, requestId: z.string().min(1) });
/** `renew`: heartbeat of a session; the reply lists its held and waiting request ids. */
export const renewMessageSchema = z.object({ version: v, session });
/** `strategy`: set the conflict strategy. */
export const strategyMessageSchema = z.object({ version: v, strategy: z.string().min(1) });
/** `detect` / `history`: no fields beyond the version. */
export const emptyMessageSchema = z.object({ version: v });

/** Reply of every resolver operation. */
export const resolverReplySchema = z.discriminatedUnion('status', [
  z.object({
    version: v,
    status: z.literal('ok'),
    /** `acquire`: whether the request was granted at once. */
    granted: z.boolean().optional(),
    /**
     * `renew`: false when the resolver does not know the session: its lease expired, or it has no
     * held or waiting request (an idle session is forgotten; its next `acquire` starts it again).
     */
    known: z.boolean().optional(),
    held: z.array(z.string()).optional(),
    waiting: z.array(z.string()).optional(),
    /** `detect` / `history` payloads. */
    data: z.unknown().optional(),
  }),
  z.object({ version: v, status: z.literal('error'), error: wireErrorSchema }),
]);
export type ResolverReply = z.infer<typeof resolverReplySchema>;

/** A change of one request, published to its session. */
export const resolverEventSchema = z.object({
  version: v,
  type: z.enum(['granted', 'rejected', 'revoked']),
  requestId: z.string(),
  message: z.string().optional(),
  error: wireErrorSchema.optional(),
});
export type ResolverEvent = z.infer<typeof resolverEventSchema>;
