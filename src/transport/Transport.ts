/**
 * The message bus between agent actors and the conflict resolver, behind a small interface so
 * the runtime runs in-process ({@link MemoryTransport}, the default) or over NATS
 * ({@link NatsTransport}) with the same semantics: subjects with `*`/`>` wildcards, queue groups
 * (one member of a group receives each message), request/reply with a timeout, headers.
 */

import { Buffer } from 'node:buffer';
import type { CancellationSignal } from '../core/cancellation.js';

/** Message headers; keys are compared case-sensitively, as NATS does. */
export type Headers = Readonly<Record<string, string>>;

/** A message delivered to a subscriber. */
export interface TransportMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers;
  /** Reply subject, when the sender expects an answer. */
  readonly reply?: string | undefined;
  /** Answers a request; false when there is nobody to answer (no reply subject, or closed). */
  respond(data: Uint8Array, headers?: Headers): boolean;
}

/** A reply to {@link Transport.request}. */
export interface TransportReply {
  readonly data: Uint8Array;
  readonly headers: Headers;
}

export interface RequestOptions {
  /** How long to wait for the reply, ms (> 0). */
  readonly timeoutMs: number;
  readonly headers?: Headers | undefined;
  /** Aborts the wait (the request may still be delivered): an AbortSignal or any {@link CancellationSignal}. */
  readonly signal?: CancellationSignal | undefined;
}

export interface RequestManyOptions {
  /** How long to collect replies, ms. */
  readonly maxWaitMs: number;
  /** Stop after this many replies. */
  readonly maxMessages?: number | undefined;
  readonly headers?: Headers | undefined;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  readonly queue?: string | undefined;
}

/** A live subscription. */
export interface TransportSubscription {
  readonly subject: string;
  unsubscribe(): void;
}

/**
 * Connection status changes. `disconnected` pauses dispatch (requests wait for `reconnected`
 * up to their own timeout instead of being buffered); `closed` is final.
 */
export type TransportStatus =
  | { readonly type: 'disconnected'; readonly server?: string | undefined }
  | { readonly type: 'reconnecting' }
  | { readonly type: 'reconnected'; readonly server?: string | undefined }
  | { readonly type: 'error'; readonly error: string }
  | { readonly type: 'closed' };

export type TransportStatusListener = (status: TransportStatus) => void;

/** Why a request failed; {@link TransportError.kind} tells a caller what to do. */
/** `permission`: the server refused the publish (the connection's user may not publish there). */
export type TransportErrorKind =
  'timeout' | 'noResponders' | 'closed' | 'disconnected' | 'tooLarge' | 'aborted' | 'permission';

/**
 * A transport-level failure (not an agent's answer). Callers map it to a typed runtime error:
 * see `remoteAgent`, which turns `noResponders` into an `AgentError` naming the agent.
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly kind: TransportErrorKind,
    readonly subject: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** True for a {@link TransportError} (also across module copies). */
export function isTransportError(error: unknown): error is TransportError {
  return error instanceof Error && error.name === 'TransportError' && 'kind' in error;
}

/** One endpoint of a hosted service. */
export interface ServiceEndpoint {
  /** Simple token (`task`). */
  readonly name: string;
  readonly subject: string;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly handler: (message: TransportMessage) => void;
}

/** A NATS-micro-style service: identity, metadata, queue group and endpoints. */
export interface ServiceDefinition {
  /** `[-\w]+` (NATS micro naming rule). */
  readonly name: string;
  /** Semver. */
  readonly version: string;
  readonly description?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** Default `q`. */
  readonly queue?: string | undefined;
  readonly endpoints: readonly ServiceEndpoint[];
  /** Custom data placed in each endpoint's `$SRV.STATS` entry. */
  readonly statsData?: (() => unknown) | undefined;
}

/** A running hosted service. */
export interface HostedService {
  /** Unique instance id. */
  readonly id: string;
  stop(): Promise<void>;
}

/**
 * The bus. Implementations: {@link MemoryTransport} and {@link NatsTransport}.
 *
 * `request` rejects with {@link TransportError} (`timeout`, `noResponders`, `closed`,
 * `disconnected` when too many requests already wait for a reconnect, `tooLarge`, `aborted`).
 */
export interface Transport {
  /** `memory` or `nats`. */
  readonly kind: string;
  /** Largest payload accepted, bytes. */
  readonly maxPayload: number;
  /** False while disconnected (dispatch is paused). */
  readonly connected: boolean;
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<TransportReply>;
  /** Collects every reply arriving within `maxWaitMs` (discovery: `$SRV.INFO`…). */
  requestMany(subject: string, data: Uint8Array, options: RequestManyOptions): Promise<TransportReply[]>;
  publish(subject: string, data: Uint8Array, headers?: Headers): void;
  subscribe(
    subject: string,
    handler: (message: TransportMessage) => void,
    options?: SubscribeOptions,
  ): TransportSubscription;
  /** Hosts a service answering `$SRV.PING/INFO/STATS` (a NATS micro service on NATS). */
  addService(definition: ServiceDefinition): Promise<HostedService>;
  /** Listens to status changes; returns the disposer. */
  onStatus(listener: TransportStatusListener): () => void;
  /** Resolves once connected (at once when connected); rejects when closed or aborted. */
  waitConnected(signal?: CancellationSignal): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

const decoder = new TextDecoder();

/**
 * UTF-8 JSON encoding of a value. A Buffer (a Uint8Array): small ones are slices of Node's shared
 * pool instead of one new ArrayBuffer each, as TextEncoder makes (cheaper per message).
 */
export function encodeJson(value: unknown): Uint8Array {
  // JSON.stringify(undefined) is undefined: encoded as no bytes, as TextEncoder did
  return Buffer.from((JSON.stringify(value) as string | undefined) ?? '', 'utf8');
}

/** Decodes UTF-8 bytes. */
export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}
