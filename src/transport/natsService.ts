import { Svcm } from '@nats-io/services';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { toMessage } from './natsMessages.js';
import type { HostedService, ServiceDefinition } from './Transport.js';

/**
 * Hosts a {@link ServiceDefinition} as a NATS micro service (`@nats-io/services`): queue group,
 * metadata, `$SRV.PING/INFO/STATS` answered by the library, custom stats `data` per endpoint.
 */
export async function hostNatsService(
  nc: NatsConnection,
  definition: ServiceDefinition,
  logger: Logger,
): Promise<HostedService> {
  const service = await new Svcm(nc).add({
    name: definition.name,
    version: definition.version,
    description: definition.description ?? '',
    metadata: { ...(definition.metadata ?? {}) },
    queue: definition.queue ?? 'q',
    ...(definition.statsData ? { statsHandler: async () => definition.statsData?.() ?? null } : {}),
  });
  for (const endpoint of definition.endpoints) {
    service.addEndpoint(endpoint.name, {
      subject: endpoint.subject,
      metadata: { ...(endpoint.metadata ?? {}) },
      handler: (error, msg) => {
        if (error)
          return void logger.error({ err: error, service: definition.name }, 'service endpoint error');
        endpoint.handler(toMessage(msg));
      },
    });
  }
  return { id: service.info().id, stop: async () => void (await service.stop()) };
}
