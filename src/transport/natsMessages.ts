import { headers as natsHeaders, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import type { Headers, TransportMessage } from './Transport.js';

/** Our headers as NATS headers (undefined when empty: cheaper on the wire). */
export function toNatsHeaders(h: Headers | undefined): MsgHdrs | undefined {
  if (!h || Object.keys(h).length === 0) return undefined;
  const out = natsHeaders();
  for (const [k, v] of Object.entries(h)) out.set(k, v);
  return out;
}

const NO_HEADERS: Headers = Object.freeze({});

/** NATS headers as a plain record (a shared frozen empty one when there are none). */
export function fromNatsHeaders(h: MsgHdrs | undefined): Headers {
  if (!h) return NO_HEADERS;
  const out: Record<string, string> = {};
  for (const k of h.keys()) out[k] = h.get(k);
  return out;
}

/** Wraps a NATS message as a {@link TransportMessage}. */
export function toMessage(msg: Msg): TransportMessage {
  return {
    subject: msg.subject,
    data: msg.data,
    headers: fromNatsHeaders(msg.headers),
    reply: msg.reply || undefined,
    respond: (data, h) => msg.respond(data, { headers: toNatsHeaders(h) }),
  };
}
