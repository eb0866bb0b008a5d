import { readFileSync } from 'node:fs';
import {
  credsAuthenticator,
  nkeyAuthenticator,
  type Authenticator,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { z } from 'zod';
import { parseWith } from '../core/validate.js';
import { durationMs, positiveDurationMs } from '../core/duration.js';

/**
 * Connection options of {@link NatsTransport}, passed through to `@nats-io/transport-node`'s
 * `connect()` (https://github.com/nats-io/nats.js, `ConnectionOptions`).
 */
export const natsTransportOptionsSchema = z
  .object({
    /** Server URL(s), e.g. `nats://127.0.0.1:4222` or `tls://nats.example:4222`. Default `127.0.0.1:4222`. */
    servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('nats://127.0.0.1:4222'),
    /** Connection name shown by the server (`nats server report connections`). */
    name: z.string().min(1).optional(),
    /** Token authentication. */
    token: z.string().min(1).optional(),
    /** User/password authentication. */
    user: z.string().min(1).optional(),
    pass: z.string().optional(),
    /** NKey authentication: the user's seed (`SU…`). */
    nkeySeed: z.string().startsWith('SU').optional(),
    /** JWT authentication: path of a `.creds` file (user JWT + seed). */
    credsFile: z.string().min(1).optional(),
    /** TLS: PEM file paths; `true` = TLS with the system CAs. */
    tls: z
      .union([
        z.literal(true),
        z
          .object({
            caFile: z.string().optional(),
            certFile: z.string().optional(),
            keyFile: z.string().optional(),
            handshakeFirst: z.boolean().optional(),
          })
          .strict(),
      ])
      .optional(),
    /**
     * Prefix of this client's reply subjects (default `_INBOX`). Give each client its own (e.g.
     * `_INBOX_runner`) and let only that user subscribe to `<prefix>.>`: then no other client can
     * read its replies (docs/remote-agents.md, "Authenticity of replies").
     */
    inboxPrefix: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/,
        'subject tokens (letters, digits, - and _) joined by dots',
      )
      .optional(),
    /** Reconnect after a disconnect (default true). */
    reconnect: z.boolean().default(true),
    /** Reconnect attempts per server; -1 = forever (default). */
    maxReconnectAttempts: z.number().int().min(-1).default(-1),
    /** Wait between reconnect attempts to one server, ms (default 250). */
    reconnectTimeWaitMs: durationMs.default(250),
    /** Random extra wait added to each reconnect attempt, ms (default 100). */
    reconnectJitterMs: durationMs.default(100),
    /** Connect timeout, ms (default 5000). */
    connectTimeoutMs: positiveDurationMs.default(5000),
    /** Client PING interval, ms (default 30000) and how many may go unanswered before a disconnect (default 2). */
    pingIntervalMs: positiveDurationMs.default(30_000),
    maxPingOut: z.number().int().positive().default(2),
    /** Keep trying the first connect instead of failing at once (default false). */
    waitOnFirstConnect: z.boolean().default(false),
    /**
     * Requests that may wait for a reconnect while disconnected (default 1000); beyond it,
     * requests fail at once with a `disconnected` TransportError instead of being buffered.
     */
    maxPendingWhileDisconnected: z.number().int().nonnegative().default(1000),
  })
  .strict();

export type NatsTransportOptionsInput = z.input<typeof natsTransportOptionsSchema>;
export type NatsTransportOptions = z.infer<typeof natsTransportOptionsSchema>;

/** Validates the options (naming the bad field) and maps them to the client's `ConnectionOptions`. */
export function toConnectionOptions(input: NatsTransportOptionsInput): {
  options: NatsTransportOptions;
  connection: NodeConnectionOptions;
} {
  const options = parseWith(natsTransportOptionsSchema, input, 'NatsTransport options');
  const authenticators: Authenticator[] = [];
  if (options.nkeySeed) authenticators.push(nkeyAuthenticator(new TextEncoder().encode(options.nkeySeed)));
  if (options.credsFile) {
    const file = options.credsFile;
    authenticators.push(credsAuthenticator(() => new Uint8Array(readFileSync(file))));
  }
  const connection: NodeConnectionOptions = {
    servers: options.servers,
    reconnect: options.reconnect,
    maxReconnectAttempts: options.maxReconnectAttempts,
    reconnectTimeWait: options.reconnectTimeWaitMs,
    reconnectJitter: options.reconnectJitterMs,
    reconnectJitterTLS: options.reconnectJitterMs,
    timeout: options.connectTimeoutMs,
    pingInterval: options.pingIntervalMs,
    maxPingOut: options.maxPingOut,
    waitOnFirstConnect: options.waitOnFirstConnect,
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.inboxPrefix === undefined ? {} : { inboxPrefix: options.inboxPrefix }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.user === undefined ? {} : { user: options.user, pass: options.pass ?? '' }),
    ...(authenticators.length > 0 ? { authenticator: authenticators } : {}),
    ...(options.tls === undefined ? {} : { tls: options.tls === true ? {} : options.tls }),
  };
  return { options, connection };
}
