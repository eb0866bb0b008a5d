import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import {
  encodeJson,
  type HostedService,
  type ServiceDefinition,
  type Transport,
  type TransportSubscription,
} from './Transport.js';

/** Control subjects of a NATS micro service: `$SRV.<VERB>`, `$SRV.<VERB>.<name>`, `$SRV.<VERB>.<name>.<id>`. */
export function controlSubjects(verb: 'PING' | 'INFO' | 'STATS', name: string, id: string): string[] {
  return [`$SRV.${verb}`, `$SRV.${verb}.${name}`, `$SRV.${verb}.${name}.${id}`];
}

/**
 * Hosts a service on any {@link Transport} with the NATS micro protocol
 * (https://github.com/nats-io/nats-architecture-and-design ADR-32): endpoints in a queue group,
 * and `$SRV.PING/INFO/STATS` answered with the ADR-32 JSON shapes (`io.nats.micro.v1.*_response`),
 * as `@nats-io/services` sends them. Both transports use it, so discovery
 * works identically on each; written here rather than taken from `@nats-io/services`, whose only
 * releases are prereleases pinned to an older `@nats-io/nats-core`, which would install a second
 * copy of the NATS client in every consumer.
 */
export function hostMicroService(
  transport: Transport,
  definition: ServiceDefinition,
  clock: Clock,
): HostedService {
  const id = randomUUID().replaceAll('-', '').slice(0, 22);
  const started = new Date(clock.now()).toISOString();
  const queue = definition.queue ?? 'q';
  const identity = {
    name: definition.name,
    id,
    version: definition.version,
    metadata: definition.metadata ?? {},
  };
  const counters = definition.endpoints.map(() => ({ requests: 0 }));
  const subs: TransportSubscription[] = definition.endpoints.map((endpoint, index) =>
    transport.subscribe(
      endpoint.subject,
      (message) => {
        const counter = counters[index];
        if (counter) counter.requests += 1;
        endpoint.handler(message);
      },
      { queue },
    ),
  );
  const answer = (verb: 'PING' | 'INFO' | 'STATS', body: () => unknown) => {
    for (const subject of controlSubjects(verb, definition.name, id)) {
      subs.push(transport.subscribe(subject, (message) => void message.respond(encodeJson(body()))));
    }
  };
  answer('PING', () => ({ type: 'io.nats.micro.v1.ping_response', ...identity }));
  answer('INFO', () => ({
    type: 'io.nats.micro.v1.info_response',
    ...identity,
    description: definition.description ?? '',
    endpoints: definition.endpoints.map((e) => ({
      name: e.name,
      subject: e.subject,
      metadata: e.metadata ?? {},
      queue_group: queue,
    })),
  }));
  answer('STATS', () => ({
    type: 'io.nats.micro.v1.stats_response',
    ...identity,
    started,
    endpoints: definition.endpoints.map((e, index) => ({
      name: e.name,
      subject: e.subject,
      queue_group: queue,
      num_requests: counters[index]?.requests ?? 0,
      num_errors: 0,
      processing_time: 0,
      average_processing_time: 0,
      data: definition.statsData?.(),
    })),
  }));
  return {
    id,
    stop: async () => {
      for (const sub of subs) sub.unsubscribe();
    },
  };
}
