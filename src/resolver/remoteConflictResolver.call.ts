/**
 * Request/response plumbing of the resolver client: one call to the resolver service over the
 * bus (`<prefix>.resolver.<op>`), and the decoding of the errors in its replies and events.
 */
import {
  ResourceExhaustionError,
  errorFromJSON,
  type ErrorDetails,
  type PatternError,
} from '../core/errors.js';
import { PROTOCOL_VERSION, decodeMessage, type protocolSubjects } from '../protocol/protocol.js';
import { resolverReplySchema, type ResolverEvent, type ResolverReply } from './resolverProtocol.js';
import { encodeJson, type Transport } from '../transport/Transport.js';

/** A successful reply of the resolver service. */
export type ResolverOkReply = Extract<ResolverReply, { status: 'ok' }>;

/**
 * Calls operation `op` of the resolver with `body` (the protocol version is added).
 * @throws ResourceExhaustionError (retryable) when the resolver is unreachable or does not answer in time
 * @throws the error the resolver replied with, rebuilt from its wire form
 */
export type ResolverCall = (op: string, body: Record<string, unknown>) => Promise<ResolverOkReply>;

/** A {@link ResolverCall} over `transport`, each request timing out after `timeoutMs` ms. */
export function resolverCall(
  transport: Transport,
  subjects: ReturnType<typeof protocolSubjects>,
  timeoutMs: number,
): ResolverCall {
  return async (op, body) => {
    let data: Uint8Array;
    try {
      data = (
        await transport.request(subjects.resolver(op), encodeJson({ version: PROTOCOL_VERSION, ...body }), {
          timeoutMs,
        })
      ).data;
    } catch (error) {
      throw new ResourceExhaustionError(
        `conflict resolver unreachable (${op}): ${(error as Error).message}`,
        { retryable: true },
      );
    }
    const reply = decodeMessage(resolverReplySchema, data, `resolver ${op} reply`, Number.POSITIVE_INFINITY);
    if (reply.status === 'error') {
      throw errorFromJSON({
        name: reply.error.name ?? 'Error',
        code: reply.error.code,
        message: reply.error.message,
        details: { ...((reply.error.details ?? {}) as ErrorDetails), retryable: reply.error.retryable },
      });
    }
    return reply;
  };
}

/**
 * The error a rejection or revocation event carries: rebuilt from its wire form, else a
 * ResourceExhaustionError with the event's message.
 */
export function eventError(event: ResolverEvent): PatternError {
  return event.error
    ? errorFromJSON({
        name: event.error.name ?? 'Error',
        code: event.error.code,
        message: event.error.message,
        details: event.error.details ?? {},
      })
    : new ResourceExhaustionError(event.message ?? `request ${event.requestId} ${event.type}`);
}
