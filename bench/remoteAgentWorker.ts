/**
 * The remote agent process of bench/remote.bench.ts: serves `bench-echo` (returns the size of
 * its params) with serveAgent, and a raw echo on `bench.raw` for the baseline, on $NATS_URL.
 */
import { pino } from 'pino';
import { nats } from './lib.js';

const { serveAgent, NatsTransport } = nats;

const logger = pino({ level: 'warn' });
const transport = await NatsTransport.connect(
  { servers: process.env['NATS_URL'] ?? '', name: 'bench-worker' },
  { logger },
);
transport.subscribe('bench.raw', (m) => void m.respond(m.data), { queue: 'q' });
await serveAgent({
  transport,
  logger,
  name: 'bench-echo',
  capabilities: ['echo'],
  maxConcurrent: 256,
  dedupeMaxEntries: 200_000,
  handler: (task) => ({ size: String(task.input.params).length }),
});
console.log('ready');
process.once('SIGINT', () => process.exit(0));
