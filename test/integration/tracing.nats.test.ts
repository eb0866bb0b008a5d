import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/SequentialDelegationPattern.js';
import { ExecutionTracer } from '../../src/tracing/ExecutionTracer.js';
import { openTelemetrySink } from '../../src/tracing/otel.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { startFixture } from './processes.js';

const logger = pino({ level: 'silent' });
let server: NatsServer;
let client: NatsTransport;

beforeAll(async () => {
  server = await startNatsServer();
  client = await NatsTransport.connect({ servers: server.url, name: 'trace-client' }, { logger });
});
afterAll(async () => {
  await client?.close();
  await server?.stop();
});

describe('trace context across NATS', () => {
  it("a remote agent's span in another process is a child of the attempt span, in the same trace", async () => {
    const agentProcess = startFixture('tracedAgentProcess', { NATS_URL: server.url });
    try {
      await agentProcess.waitFor(/^ready/);
      const exporter = new InMemorySpanExporter();
      const tracerProvider = new BasicTracerProvider();
      tracerProvider.addSpanProcessor(new SimpleSpanProcessor(exporter));
      const tracer = new ExecutionTracer({
        sinks: [await openTelemetrySink({ tracerProvider, metrics: false })],
      });
      const registry = new PatternRegistry();
      registry.registerPattern(
        new SequentialDelegationPattern({
          name: 'remote',
          steps: [
            { name: 'first', capability: 'traced' },
            { name: 'second', capability: 'traced' },
          ],
        }),
      );
      const agent = remoteAgent({
        transport: client,
        name: 'traced',
        capabilities: ['traced'],
        timeoutMs: 5000,
      });
      const executor = new PatternExecutor(registry, { agents: [agent] });
      const result = await executor.run('remote', {}, { tracer, timeoutMs: 10_000 });
      expect(result.status).toBe('succeeded');

      const spans = exporter.getFinishedSpans();
      const run = spans.find((s) => s.name === 'run remote')!;
      for (const step of ['first', 'second']) {
        const output = result.steps.find((s) => s.name === step)?.output as {
          pid: number;
          traceparent: string;
          traceId: string;
          parentSpanId: string;
        };
        const attempt = spans.find(
          (s) => s.name === 'invoke_agent traced' && s.attributes['ndf.step'] === step,
        )!;
        expect(output.pid).not.toBe(process.pid);
        expect(output.traceId).toBe(run.spanContext().traceId);
        expect(output.parentSpanId).toBe(attempt.spanContext().spanId);
        expect(output.traceparent).toBe(`00-${run.spanContext().traceId}-${attempt.spanContext().spanId}-01`);
      }
      await tracerProvider.shutdown();
    } finally {
      await agentProcess.kill();
    }
  });
});
