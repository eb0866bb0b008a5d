import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { defineAgent } from '../../src/actors/agent.js';
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

  it('the span tree of a sequential run with a retry, a compensation and a remote NATS agent in another process', async () => {
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
      const once = { maxAttempts: 1 };
      registry.registerPattern(
        new SequentialDelegationPattern({
          name: 'saga',
          steps: [
            { name: 'a', capability: 'work', retry: once },
            { name: 'remote', capability: 'traced', retry: once },
            {
              name: 'b',
              capability: 'work',
              retry: { maxAttempts: 2, backoff: { initialDelayMs: 5, jitter: 'none' } },
            },
            { name: 'c', capability: 'work', retry: once },
          ],
        }),
      );
      const local = defineAgent({
        id: 'w',
        capabilities: ['work'],
        handler: (task) => {
          if ((task.step === 'b' && task.attempt === 1) || task.step === 'c')
            throw new Error(`${task.step} failed`);
          return { step: task.step };
        },
        compensate: () => undefined,
      });
      const traced = remoteAgent({
        transport: client,
        name: 'traced',
        capabilities: ['traced'],
        timeoutMs: 5000,
      });
      const executor = new PatternExecutor(registry, { agents: [local, traced] });
      const result = await executor.run('saga', {}, { tracer, timeoutMs: 10_000 });
      expect(result.status).toBe('rolledBack');

      const spans = exporter.getFinishedSpans();
      expect(otelTree(spans)).toEqual([
        'run saga error',
        '  invoke_workflow saga ok',
        '    step a ok',
        '      invoke_agent w ok',
        '      compensate a ok',
        '    step remote ok',
        '      invoke_agent traced ok',
        '      compensate remote ok',
        '    step b ok',
        '      invoke_agent w error',
        '      invoke_agent w ok',
        '      compensate b ok',
        '    step c error',
        '      invoke_agent w error',
      ]);
      const run = spans.find((s) => s.name === 'run saga')!;
      expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(
        new Set([run.spanContext().traceId]),
      );
      // the remote agent's span, recorded by the other process, is a child of the attempt span
      const output = result.steps.find((s) => s.name === 'remote')?.output as {
        pid: number;
        traceId: string;
        parentSpanId: string;
      };
      const attempt = spans.find((s) => s.name === 'invoke_agent traced')!;
      expect(output.pid).not.toBe(process.pid);
      expect(output.traceId).toBe(run.spanContext().traceId);
      expect(output.parentSpanId).toBe(attempt.spanContext().spanId);
      await tracerProvider.shutdown();
    } finally {
      await agentProcess.kill();
    }
  });
});

/** `name status` lines indented by depth (children in start order). */
function otelTree(spans: readonly ReadableSpan[]): string[] {
  const ms = (s: ReadableSpan) => s.startTime[0] * 1e3 + s.startTime[1] / 1e6;
  const sorted = [...spans].sort((a, b) => ms(a) - ms(b));
  const out: string[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const s of sorted.filter((x) => x.parentSpanId === parent)) {
      const status = s.status.code === SpanStatusCode.ERROR ? 'error' : 'ok';
      out.push(`${'  '.repeat(depth)}${s.name} ${status}`);
      walk(s.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}
