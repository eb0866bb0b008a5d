import { systemClock, type Clock } from '../core/clock.js';
import { notifyAll } from '../core/listeners.js';
import { hostMicroService } from './microService.js';
import { subjectMatches } from './subjects.js';
import {
  TransportError,
  type Headers,
  type HostedService,
  type RequestManyOptions,
  type RequestOptions,
  type ServiceDefinition,
  type SubscribeOptions,
  type Transport,
  type TransportMessage,
  type TransportReply,
  type TransportStatusListener,
  type TransportSubscription,
} from './Transport.js';

/** Options of {@link MemoryTransport}. */
export interface MemoryTransportOptions {
  /** Times request timeouts (default: the wall clock). */
  clock?: Clock;
  /** Largest payload, bytes (default 1 MiB, the NATS server default). */
  maxPayload?: number;
  /** Called when a subscriber throws (default: ignored, the subscriber's problem). */
  onHandlerError?: (error: unknown, subject: string) => void;
}

interface Sub {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly handler: (message: TransportMessage) => void;
}

/**
 * The in-process transport (the default): same semantics as NATS core (wildcards, queue
 * groups picked round-robin, no-responders detection, request timeouts on the injected clock),
 * delivering asynchronously (a microtask later) so callers never re-enter themselves.
 *
 * @example
 * const bus = new MemoryTransport();
 * bus.subscribe('echo', (m) => m.respond(m.data));
 * const reply = await bus.request('echo', encodeJson({ hi: 1 }), { timeoutMs: 1000 });
 */
export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  readonly maxPayload: number;
  readonly clock: Clock;
  private readonly subs = new Set<Sub>();
  /** Subscriptions by literal subject (no wildcard), for O(1) lookup. */
  private readonly exact = new Map<string, Set<Sub>>();
  private readonly wildcard = new Set<Sub>();
  private readonly roundRobin = new Map<string, number>();
  private readonly listeners = new Set<TransportStatusListener>();
  private readonly onHandlerError: (error: unknown, subject: string) => void;
  private inboxSeq = 0;
  private closed = false;

  constructor(options: MemoryTransportOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxPayload = options.maxPayload ?? 1024 * 1024;
    this.onHandlerError = options.onHandlerError ?? (() => undefined);
  }

  get connected(): boolean {
    return !this.closed;
  }

  publish(subject: string, data: Uint8Array, headers: Headers = {}): void {
    this.assertOpen(subject);
    this.assertSize(subject, data);
    this.deliver(subject, data, headers, undefined);
  }

  subscribe(
    subject: string,
    handler: (message: TransportMessage) => void,
    options: SubscribeOptions = {},
  ): TransportSubscription {
    this.assertOpen(subject);
    const sub: Sub = { subject, queue: options.queue || undefined, handler };
    this.subs.add(sub);
    const isWild = subject.split('.').some((t) => t === '*' || t === '>');
    if (isWild) this.wildcard.add(sub);
    else {
      const set = this.exact.get(subject) ?? new Set<Sub>();
      set.add(sub);
      this.exact.set(subject, set);
    }
    return {
      subject,
      unsubscribe: () => {
        this.subs.delete(sub);
        if (isWild) this.wildcard.delete(sub);
        else {
          const set = this.exact.get(subject);
          set?.delete(sub);
          if (set?.size === 0) this.exact.delete(subject);
        }
      },
    };
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<TransportReply> {
    return new Promise<TransportReply>((resolve, reject) => {
      if (this.closed)
        return reject(new TransportError('closed', subject, `transport closed (request to ${subject})`));
      if (data.byteLength > this.maxPayload) return reject(this.tooLarge(subject, data));
      if (options.signal?.aborted)
        return reject(new TransportError('aborted', subject, `request to ${subject} aborted`));
      const inbox = `_INBOX.mem.${++this.inboxSeq}`;
      const finish = (error: TransportError | undefined, reply?: TransportReply) => {
        sub.unsubscribe();
        this.clock.clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else if (reply) resolve(reply);
      };
      const sub = this.subscribe(inbox, (m) => finish(undefined, { data: m.data, headers: m.headers }));
      const timer = this.clock.setTimeout(
        () =>
          finish(
            new TransportError(
              'timeout',
              subject,
              `request to ${subject} timed out after ${options.timeoutMs} ms`,
            ),
          ),
        options.timeoutMs,
      );
      const onAbort = () => finish(new TransportError('aborted', subject, `request to ${subject} aborted`));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const delivered = this.deliver(subject, data, options.headers ?? {}, inbox);
      if (delivered === 0) {
        finish(new TransportError('noResponders', subject, `no responders are listening on ${subject}`));
      }
    });
  }

  requestMany(subject: string, data: Uint8Array, options: RequestManyOptions): Promise<TransportReply[]> {
    return new Promise<TransportReply[]>((resolve, reject) => {
      if (this.closed)
        return reject(new TransportError('closed', subject, `transport closed (request to ${subject})`));
      const replies: TransportReply[] = [];
      const inbox = `_INBOX.mem.${++this.inboxSeq}`;
      const done = () => {
        sub.unsubscribe();
        this.clock.clearTimeout(timer);
        resolve(replies);
      };
      const sub = this.subscribe(inbox, (m) => {
        replies.push({ data: m.data, headers: m.headers });
        if (options.maxMessages !== undefined && replies.length >= options.maxMessages) done();
      });
      const timer = this.clock.setTimeout(done, options.maxWaitMs);
      if (this.deliver(subject, data, options.headers ?? {}, inbox) === 0) done();
    });
  }

  addService(definition: ServiceDefinition): Promise<HostedService> {
    this.assertOpen(definition.name);
    return Promise.resolve(hostMicroService(this, definition, this.clock));
  }

  onStatus(listener: TransportStatusListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  waitConnected(): Promise<void> {
    return this.closed
      ? Promise.reject(new TransportError('closed', '', 'transport closed'))
      : Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subs.clear();
    this.exact.clear();
    this.wildcard.clear();
    notifyAll(this.listeners, { type: 'closed' }, undefined, 'transport status listener');
  }

  /** Delivers to every plain subscriber and one member of each queue group; returns the count. */
  private deliver(subject: string, data: Uint8Array, headers: Headers, reply: string | undefined): number {
    const plain: Sub[] = [];
    const groups = new Map<string, Sub[]>();
    const candidates = [...(this.exact.get(subject) ?? [])];
    for (const sub of this.wildcard) if (subjectMatches(sub.subject, subject)) candidates.push(sub);
    for (const sub of candidates) {
      if (sub.queue === undefined) plain.push(sub);
      else {
        const key = `${sub.subject} ${sub.queue}`;
        const members = groups.get(key);
        if (members) members.push(sub);
        else groups.set(key, [sub]);
      }
    }
    const targets = [...plain];
    for (const [key, members] of groups) {
      const next = this.roundRobin.get(key) ?? 0;
      this.roundRobin.set(key, next + 1);
      const member = members[next % members.length];
      if (member) targets.push(member);
    }
    const frozen = { ...headers };
    for (const target of targets) {
      const message: TransportMessage = {
        subject,
        data,
        headers: frozen,
        reply,
        respond: (replyData, replyHeaders = {}) => {
          if (reply === undefined || this.closed) return false;
          this.deliver(reply, replyData, replyHeaders, undefined);
          return true;
        },
      };
      queueMicrotask(() => {
        if (!this.subs.has(target)) return;
        try {
          target.handler(message);
        } catch (error) {
          this.onHandlerError(error, subject);
        }
      });
    }
    return targets.length;
  }

  private assertOpen(subject: string): void {
    if (this.closed) throw new TransportError('closed', subject, `transport closed (${subject})`);
  }

  private assertSize(subject: string, data: Uint8Array): void {
    if (data.byteLength > this.maxPayload) throw this.tooLarge(subject, data);
  }

  private tooLarge(subject: string, data: Uint8Array): TransportError {
    return new TransportError(
      'tooLarge',
      subject,
      `payload of ${data.byteLength} bytes to ${subject} exceeds the ${this.maxPayload}-byte limit`,
    );
  }
}
