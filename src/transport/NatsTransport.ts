import { connect, PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import type { CancellationSignal } from '../core/cancellation.js';
import { createLogger, type Logger } from '../core/logger.js';
import { notifyAll } from '../core/listeners.js';
import { systemClock } from '../core/clock.js';
import { toConnectionOptions, type NatsTransportOptionsInput } from './natsOptions.js';
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
  type TransportStatus,
  type TransportStatusListener,
  type TransportSubscription,
} from './Transport.js';
import { mapNatsError } from './natsErrors.js';
import { fromNatsHeaders, toMessage, toNatsHeaders } from './natsMessages.js';
import { hostMicroService } from './microService.js';
import { NatsReplyMux } from './natsReplyMux.js';
import { ReconnectGate } from './reconnectGate.js';

/** Extra options of {@link NatsTransport} beyond the connection options. */
export interface NatsTransportExtras {
  /** Status changes and rejections are logged here (default: `createLogger()`: stderr, level `ND_LOG_LEVEL` or `warn`). */
  logger?: Logger;
}

/**
 * The NATS transport (`@nats-io/transport-node` v3). Status events (disconnect, reconnect,
 * errors) are logged with pino and surfaced through {@link NatsTransport.onStatus}. While
 * disconnected, dispatch is paused: a request waits for the reconnect within its own timeout
 * (at most `maxPendingWhileDisconnected` of them; more fail at once with a `disconnected`
 * TransportError) instead of being buffered by the client without bound.
 *
 * @example
 * const transport = await NatsTransport.connect({ servers: 'nats://127.0.0.1:4222', name: 'runner' });
 */
export class NatsTransport implements Transport {
  readonly kind = 'nats';
  private readonly listeners = new Set<TransportStatusListener>();
  private isConnected = true;
  private isClosed = false;
  private readonly replies: NatsReplyMux;
  private readonly reconnect: ReconnectGate;

  private constructor(
    /** The underlying connection (for JetStream, KV…). */
    readonly connection: NatsConnection,
    private readonly logger: Logger,
    maxPendingWhileDisconnected: number,
    private readonly ownsConnection: boolean,
  ) {
    this.replies = new NatsReplyMux(connection);
    this.reconnect = new ReconnectGate(maxPendingWhileDisconnected);
    void this.watchStatus();
  }

  /**
   * Connects to NATS.
   * @throws PatternValidationError on a malformed option (naming it); the client's connection error when no server answers
   */
  static async connect(
    options: NatsTransportOptionsInput = {},
    extras: NatsTransportExtras = {},
  ): Promise<NatsTransport> {
    const { options: parsed, connection } = toConnectionOptions(options);
    const logger = extras.logger ?? createLogger();
    const nc = await connect(connection);
    logger.info({ server: nc.getServer(), connection: parsed.name }, 'nats connected');
    return new NatsTransport(nc, logger, parsed.maxPendingWhileDisconnected, true);
  }

  /** Wraps an existing connection (not closed by {@link close}). */
  static fromConnection(
    nc: NatsConnection,
    extras: NatsTransportExtras & { maxPendingWhileDisconnected?: number } = {},
  ): NatsTransport {
    return new NatsTransport(
      nc,
      extras.logger ?? createLogger(),
      extras.maxPendingWhileDisconnected ?? 1000,
      false,
    );
  }

  get connected(): boolean {
    return this.isConnected && !this.isClosed;
  }

  get maxPayload(): number {
    return this.connection.info?.max_payload ?? 1024 * 1024;
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<TransportReply> {
    if (data.byteLength > this.maxPayload) return Promise.reject(tooLarge(subject, data, this.maxPayload));
    if (this.isClosed)
      return Promise.reject(
        new TransportError('closed', subject, `transport closed (request to ${subject})`),
      );
    if (!this.connected) return this.requestAfterReconnect(subject, data, options);
    // no async/await on this path: each layer costs promises and ticks per request
    return this.replies.request(
      subject,
      data,
      options.timeoutMs,
      toNatsHeaders(options.headers),
      options.signal,
    );
  }

  private async requestAfterReconnect(
    subject: string,
    data: Uint8Array,
    options: RequestOptions,
  ): Promise<TransportReply> {
    const started = Date.now();
    await this.reconnect.wait(subject, options.timeoutMs, options.signal);
    const remaining = Math.max(1, options.timeoutMs - (Date.now() - started));
    return this.replies.request(subject, data, remaining, toNatsHeaders(options.headers), options.signal);
  }

  async requestMany(
    subject: string,
    data: Uint8Array,
    options: RequestManyOptions,
  ): Promise<TransportReply[]> {
    const replies: TransportReply[] = [];
    const iter = await this.connection.requestMany(subject, data, {
      strategy: options.maxMessages === undefined ? 'timer' : 'count',
      maxWait: options.maxWaitMs,
      ...(options.maxMessages === undefined ? {} : { maxMessages: options.maxMessages }),
      headers: toNatsHeaders(options.headers),
    });
    try {
      for await (const msg of iter) replies.push({ data: msg.data, headers: fromNatsHeaders(msg.headers) });
    } catch (error) {
      const mapped = mapNatsError(error, subject, options.maxWaitMs);
      if (mapped.kind !== 'noResponders' && mapped.kind !== 'timeout') throw mapped;
    }
    return replies;
  }

  publish(subject: string, data: Uint8Array, headers?: Headers): void {
    if (data.byteLength > this.maxPayload) throw tooLarge(subject, data, this.maxPayload);
    if (this.isClosed)
      throw new TransportError('closed', subject, `transport closed (publish to ${subject})`);
    this.connection.publish(subject, data, { headers: toNatsHeaders(headers) });
  }

  subscribe(
    subject: string,
    handler: (message: TransportMessage) => void,
    options: SubscribeOptions = {},
  ): TransportSubscription {
    const sub = this.connection.subscribe(subject, {
      ...(options.queue ? { queue: options.queue } : {}),
      callback: (error, msg) => {
        if (error) return void this.logger.error({ err: error, subject }, 'subscription error');
        try {
          handler(toMessage(msg));
        } catch (thrown) {
          this.logger.error({ err: thrown, subject }, 'subscriber threw');
        }
      },
    });
    return { subject, unsubscribe: () => sub.unsubscribe() };
  }

  /** Hosts `definition` as a NATS micro service; resolves once the server has its subscriptions. */
  async addService(definition: ServiceDefinition): Promise<HostedService> {
    const hosted = hostMicroService(this, definition, systemClock);
    await this.connection.flush();
    return hosted;
  }

  onStatus(listener: TransportStatusListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  waitConnected(signal?: CancellationSignal): Promise<void> {
    if (this.connected) return Promise.resolve();
    return this.reconnect.wait('', Number.POSITIVE_INFINITY, signal);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.reconnect.fail(new TransportError('closed', '', 'transport closed'));
    this.replies.close(new TransportError('closed', '', 'transport closed while waiting for a reply'));
    if (this.ownsConnection && !this.connection.isClosed())
      await this.connection.drain().catch(() => this.connection.close());
  }

  private emit(status: TransportStatus): void {
    notifyAll(this.listeners, status, this.logger, 'transport status listener');
  }

  private async watchStatus(): Promise<void> {
    for await (const s of this.connection.status()) {
      if (s.type === 'disconnect') {
        this.isConnected = false;
        this.logger.warn({ server: s.server }, 'nats disconnected: dispatch paused');
        this.emit({ type: 'disconnected', server: s.server });
      } else if (s.type === 'reconnecting') {
        this.emit({ type: 'reconnecting' });
      } else if (s.type === 'reconnect') {
        this.isConnected = true;
        this.logger.info({ server: s.server }, 'nats reconnected: dispatch resumed');
        this.emit({ type: 'reconnected', server: s.server });
        this.reconnect.open();
      } else if (s.type === 'error') {
        this.logger.error({ err: s.error }, 'nats error');
        if (s.error instanceof PermissionViolationError && s.error.operation === 'publish')
          this.replies.failPublish(
            s.error.subject,
            new TransportError(
              'permission',
              s.error.subject,
              `NATS refused the publish to ${s.error.subject}: ${s.error.message}`,
              {
                cause: s.error,
              },
            ),
          );
        this.emit({ type: 'error', error: s.error.message });
      }
    }
    this.isConnected = false;
    this.logger.info('nats connection closed');
    this.replies.close(new TransportError('closed', '', 'NATS connection closed while waiting for a reply'));
    this.reconnect.fail(new TransportError('closed', '', 'NATS connection closed'));
    this.emit({ type: 'closed' });
  }
}

function tooLarge(subject: string, data: Uint8Array, max: number): TransportError {
  return new TransportError(
    'tooLarge',
    subject,
    `payload of ${data.byteLength} bytes to ${subject} exceeds the server's ${max}-byte max_payload`,
  );
}
