import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';

/** The `connection` option of everything built on JetStream: an open NatsConnection. */
export const natsConnectionSchema = z.custom<NatsConnection>(
  (v) => typeof v === 'object' && v !== null && typeof (v as NatsConnection).request === 'function',
  'an open NatsConnection',
);
