import { createLogger, type Logger } from '../core/logger.js';
import type { z } from 'zod';
import { ResourceExhaustionError } from '../core/errors.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_SUBJECT_PREFIX,
  PROTOCOL_VERSION,
  decodeMessage,
  errorReply,
  protocolSubjects,
} from '../protocol/protocol.js';
import {
  acquireMessageSchema,
  emptyMessageSchema,
  releaseMessageSchema,
  renewMessageSchema,
  strategyMessageSchema,
  type ResolverEvent,
  type ResolverReply,
} from './resolverProtocol.js';
import { encodeJson, type Transport, type TransportMessage } from '../transport/Transport.js';
import { ConflictResolver, effectError } from './conflictResolver.js';
import type { LockEffect } from './lockTypes.js';
import { rateLimitedWarn } from '../core/rateLimitedWarn.js';

/** Options of {@link serveConflictResolver}. */
export interface ServeConflictResolverOptions {
  transport: Transport;
  /** The resolver to expose (default: a new one with default options). */
  resolver?: ConflictResolver;
  /** Subject prefix (default `nd`). */
  prefix?: string;
  maxMessageBytes?: number;
  logger?: Logger;
}

/** A running resolver service. */
export interface ServedResolver {
  readonly resolver: ConflictResolver;
  readonly id: string;
  /**
   * Bus sessions the service tracks now (it publishes their events): those with a held or
   * waiting request. Returns to 0 once every client released its requests or its lease expired.
   */
  sessionCount(): number;
  stop(): Promise<void>;
}

/**
 * Exposes a {@link ConflictResolver} on the bus as the micro service `nd-resolver`
 * (`<prefix>.resolver.acquire|release|renew|detect|history|strategy`, protocol in
 * src/resolver/resolverProtocol.ts). Grants, rejections and revocations of requests made over the
 * bus are published to `<prefix>.resolver.events.<session>`. Run one instance per prefix.
 * Malformed messages get an error reply and a log line.
 *
 * Sessions cost nothing once idle: the service remembers a bus session only while the lock table
 * lists a held or waiting request of it, and forgets it after the operation that removed the
 * last one (release, cancel, rejection, revocation, lease expiry), once that operation's events
 * are published. A forgotten session that comes back is a new one: `acquire` works as for any
 * session; `renew` answers `known: false` with no `held`/`waiting`, so its client drops what it
 * still believed it held; `release` of an unknown request is a no-op.
 */
export async function serveConflictResolver(options: ServeConflictResolverOptions): Promise<ServedResolver> {
  const { transport } = options;
  const resolver = options.resolver ?? new ConflictResolver();
  const prefix = options.prefix ?? DEFAULT_SUBJECT_PREFIX;
  const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const logger = options.logger ?? createLogger('resolver');
  const subjects = protocolSubjects(prefix);
  const busSessions = new Set<string>();

  const publish = (effect: LockEffect) => {
    const session = effect.request.session;
    if (!busSessions.has(session)) return;
    const event: ResolverEvent = {
      version: PROTOCOL_VERSION,
      type: effect.type,
      requestId: effect.request.id,
      ...(effect.type === 'granted' ? {} : { message: effect.message, error: errorOf(effect) }),
    };
    try {
      transport.publish(subjects.resolverEvents(session), encodeJson(event));
    } catch (error) {
      logger.warn(
        { err: (error as Error).message, session },
        'could not publish a resolver event (the next renew reconciles)',
      );
    }
  };
  /** Forgets the bus sessions the table no longer lists: O(sessions), within a table operation's own O(requests). */
  const forgetIdle = () => {
    for (const session of busSessions) if (!resolver.table.hasSession(session)) busSessions.delete(session);
  };
  const disposeEffects = resolver.onEffect(publish);
  // after the whole batch: one operation may report several effects to a session it removes
  const disposeForget = resolver.onEffects(forgetIdle);

  const warnRejected = rateLimitedWarn(logger); // one line per 10 s per operation
  const endpoint = <S extends z.ZodType>(
    op: string,
    schema: S,
    handle: (message: z.infer<S>) => ResolverReply,
  ) => ({
    name: op,
    subject: subjects.resolver(op),
    handler: (m: TransportMessage) => {
      let reply: ResolverReply;
      try {
        reply = handle(decodeMessage(schema, m.data, `resolver.${op}`, maxBytes));
      } catch (error) {
        warnRejected({ op, err: (error as Error).message }, 'rejected resolver request', op);
        reply = errorReply(error);
      }
      m.respond(encodeJson(reply));
    },
  });
  const ok = (
    extra: Omit<Extract<ResolverReply, { status: 'ok' }>, 'version' | 'status'> = {},
  ): ResolverReply => ({ version: PROTOCOL_VERSION, status: 'ok', ...extra });

  const service = await transport.addService({
    name: 'nd-resolver',
    version: '1.0.0',
    description: 'natural-delegation conflict resolver',
    metadata: { 'nd.protocol': String(PROTOCOL_VERSION), 'nd.role': 'resolver', 'nd.prefix': prefix },
    endpoints: [
      endpoint('acquire', acquireMessageSchema, (msg) => {
        busSessions.add(msg.session);
        let rejection: LockEffect | undefined;
        const watch = resolver.onEffect((e) => {
          if (e.type === 'rejected' && e.request.id === msg.requestId) rejection = e;
        });
        try {
          resolver
            .acquireLease(msg.names, {
              id: msg.requestId,
              owner: msg.owner,
              priority: msg.priority,
              deadline: msg.deadline ?? undefined,
              session: msg.session,
              leaseMs: msg.leaseMs,
            })
            .catch(() => undefined);
        } finally {
          watch();
          // a request refused before it reached the table leaves its session unknown there
          if (!resolver.table.hasSession(msg.session)) busSessions.delete(msg.session);
        }
        if (resolver.table.isHeld(msg.requestId)) return ok({ granted: true });
        if (resolver.table.isWaiting(msg.requestId)) return ok({ granted: false });
        return errorReply(
          rejection
            ? effectError(rejection)
            : new ResourceExhaustionError(`request ${msg.requestId} was refused`),
        );
      }),
      endpoint('release', releaseMessageSchema, (msg) => {
        resolver.release(msg.requestId);
        return ok();
      }),
      endpoint('renew', renewMessageSchema, (msg) =>
        ok({ known: resolver.renew(msg.session), ...resolver.table.sessionRequests(msg.session) }),
      ),
      endpoint('detect', emptyMessageSchema, () => ok({ data: resolver.detectConflicts() })),
      endpoint('history', emptyMessageSchema, () => ok({ data: resolver.getConflictHistory() })),
      endpoint('strategy', strategyMessageSchema, (msg) => {
        resolver.setConflictStrategy(msg.strategy);
        return ok();
      }),
    ],
  });
  logger.info({ prefix, id: service.id, transport: transport.kind }, 'conflict resolver serving');
  return {
    resolver,
    id: service.id,
    sessionCount: () => busSessions.size,
    stop: async () => {
      disposeEffects();
      disposeForget();
      await service.stop();
    },
  };
}

function errorOf(effect: LockEffect) {
  const reply = errorReply(effectError(effect));
  return reply.status === 'error' ? reply.error : undefined;
}
