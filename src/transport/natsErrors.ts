import {
  ClosedConnectionError,
  NoRespondersError,
  RequestError,
  TimeoutError,
} from '@nats-io/transport-node';
import { TransportError, isTransportError } from './Transport.js';

/** Maps an error of the NATS client to a {@link TransportError} of the matching kind. */
export function mapNatsError(error: unknown, subject: string, timeoutMs: number): TransportError {
  if (isTransportError(error)) return error;
  const cause = error instanceof Error ? error : new Error(String(error));
  if (
    (error instanceof RequestError && error.isNoResponders()) ||
    error instanceof NoRespondersError ||
    cause.cause instanceof NoRespondersError
  ) {
    return new TransportError('noResponders', subject, `no responders are listening on ${subject}`, {
      cause,
    });
  }
  if (error instanceof TimeoutError || cause.cause instanceof TimeoutError || cause.name === 'TimeoutError') {
    return new TransportError('timeout', subject, `request to ${subject} timed out after ${timeoutMs} ms`, {
      cause,
    });
  }
  if (cause.message.includes('max_payload')) {
    // the client counts headers too: a payload under max_payload may still be refused
    return new TransportError('tooLarge', subject, `message to ${subject} exceeds the server's max_payload`, {
      cause,
    });
  }
  if (error instanceof ClosedConnectionError) {
    return new TransportError('closed', subject, `NATS connection closed (request to ${subject})`, { cause });
  }
  return new TransportError('disconnected', subject, `request to ${subject} failed: ${cause.message}`, {
    cause,
  });
}
