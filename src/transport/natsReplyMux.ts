import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import type { CancellationSignal } from '../core/cancellation.js';
import { TransportError, type TransportReply } from './Transport.js';
import { fromNatsHeaders } from './natsMessages.js';
import { mapNatsError } from './natsErrors.js';

/** The NATS status code of a "no responders" reply (NATS ADR-2). */
const NO_RESPONDERS = 503;

/** One request waiting for its reply. */
class PendingReply {
  readonly timer: ReturnType<typeof setTimeout>;
  onAbort: (() => void) | undefined;

  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    readonly resolve: (reply: TransportReply) => void,
    readonly reject: (error: TransportError) => void,
    readonly signal: CancellationSignal | undefined,
    onTimeout: () => void,
  ) {
    this.timer = setTimeout(onTimeout, timeoutMs);
  }
}

/**
 * Request/reply for {@link NatsTransport} over one wildcard reply subscription
 * (`<inboxPrefix>.<nuid>.*`, one token per request), the same wire pattern as the NATS client's
 * own `request()`. The client's `request()` builds an Error with a stack trace for every
 * request, even one that succeeds (it rejects its settled deferred on clean-up), plus a second
 * one for its timer when async traces are on: in bench/ that was three quarters of its CPU per
 * request (70 µs against 16 µs for a publish to a reply inbox). Here a request costs one
 * promise, one timer and a map entry; errors are made only on failure.
 *
 * A reply with NATS status 503 and no data ("no responders", which the server sends because the
 * client connects with `no_responders`) fails the request with kind `noResponders`. The
 * subscription is made on first use and survives reconnects (the client re-subscribes).
 */
export class NatsReplyMux {
  private readonly pending = new Map<string, PendingReply>();
  private subscription: Subscription | undefined;
  private prefix = '';
  private next = 0;
  private closed = false;

  constructor(private readonly connection: NatsConnection) {}

  /**
   * Publishes `data` to `subject` with a reply subject, and resolves with the first reply.
   * @param timeoutMs - how long to wait for the reply, ms
   * @throws TransportError (kind `timeout`, `noResponders`, `aborted`, `closed`, or the publish's own failure)
   */
  request(
    subject: string,
    data: Uint8Array,
    timeoutMs: number,
    headers: MsgHdrs | undefined,
    signal: CancellationSignal | undefined,
  ): Promise<TransportReply> {
    if (this.closed)
      return Promise.reject(
        new TransportError('closed', subject, `transport closed (request to ${subject})`),
      );
    if (signal?.aborted) return Promise.reject(aborted(subject));
    const token = (this.next++).toString(36);
    return new Promise<TransportReply>((resolve, reject) => {
      const entry = new PendingReply(subject, timeoutMs, resolve, reject, signal, () =>
        this.fail(
          token,
          new TransportError('timeout', subject, `request to ${subject} timed out after ${timeoutMs} ms`),
        ),
      );
      if (signal) {
        entry.onAbort = () => this.fail(token, aborted(subject));
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.pending.set(token, entry);
      try {
        this.connection.publish(subject, data, { reply: this.replyPrefix() + token, headers });
      } catch (error) {
        this.fail(token, mapNatsError(error, subject, timeoutMs));
      }
    });
  }

  /**
   * Fails the oldest request waiting on `subject` with `error`: the server refused its publish
   * (a permissions violation names the subject, not the request), so it would otherwise wait out
   * its whole timeout, as the client's own request() does not.
   */
  failPublish(subject: string, error: TransportError): void {
    for (const [token, entry] of this.pending) if (entry.subject === subject) return this.fail(token, error);
  }

  /** Fails every waiting request with `error` (the connection closed) and drops the subscription; later requests fail at once. */
  close(error: TransportError): void {
    this.closed = true;
    for (const token of [...this.pending.keys()]) this.fail(token, error);
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private replyPrefix(): string {
    if (this.subscription) return this.prefix;
    // the inbox prefix of a connection made elsewhere (NatsTransport.fromConnection) is honoured
    const { inboxPrefix } = (this.connection as { options?: { inboxPrefix?: string } }).options ?? {};
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.subscription = this.connection.subscribe(`${this.prefix}*`, {
      callback: (error, msg) => (error ? this.failAll(error) : this.settle(msg)),
    });
    return this.prefix;
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const entry = this.take(token);
    if (!entry) return; // a late reply to a request that timed out or was aborted
    if (msg.data.length === 0 && msg.headers?.code === NO_RESPONDERS)
      entry.reject(
        new TransportError('noResponders', entry.subject, `no responders are listening on ${entry.subject}`),
      );
    else entry.resolve({ data: msg.data, headers: fromNatsHeaders(msg.headers) });
  }

  private fail(token: string, error: TransportError): void {
    this.take(token)?.reject(error);
  }

  private failAll(error: Error): void {
    this.subscription = undefined; // the client closed it: the next request subscribes again
    for (const [token, entry] of [...this.pending])
      this.fail(token, mapNatsError(error, entry.subject, entry.timeoutMs));
  }

  private take(token: string): PendingReply | undefined {
    const entry = this.pending.get(token);
    if (!entry) return undefined;
    this.pending.delete(token);
    clearTimeout(entry.timer);
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    return entry;
  }
}

function aborted(subject: string): TransportError {
  return new TransportError('aborted', subject, `request to ${subject} aborted`);
}
