import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandAgent } from '../../../src/actors/commandAgent.js';
import { httpAgent } from '../../../src/actors/httpAgent.js';
import { PROTOCOL_VERSION, taskRequestSchema } from '../../../src/protocol/protocol.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';
import { ExecutionTracer } from '../../../src/tracing/ExecutionTracer.js';
import { memorySink } from '../../../src/tracing/memorySink.js';
import { formatTraceparent } from '../../../src/tracing/traceContext.js';

const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ version: PROTOCOL_VERSION, status: 'ok', output: 'done' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/task`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('trace context propagation', () => {
  it('sends the attempt span as TRACEPARENT to commands and as traceparent headers to HTTP agents', async () => {
    const registry = new PatternRegistry();
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'mixed',
        steps: [
          { name: 'cmd', capability: 'shell' },
          { name: 'web', capability: 'http' },
        ],
      }),
    );
    const command = createCommandAgent({
      id: 'sh',
      capabilities: ['shell'],
      command: [
        process.execPath,
        '-e',
        'process.stdout.write(JSON.stringify({ tp: process.env.TRACEPARENT }))',
      ],
    });
    const web = httpAgent({ id: 'web', url, capabilities: ['http'] });
    const executor = new PatternExecutor(registry, { agents: [command, web] });
    const sink = memorySink();
    const result = await executor.run('mixed', {}, { tracer: new ExecutionTracer({ sinks: [sink] }) });
    expect(result.status).toBe('succeeded');
    const parentOf = (step: string) => {
      const span = sink.spans.find((s) => s.kind === 'attempt' && s.attributes['ndf.step'] === step)!;
      return formatTraceparent(span.traceId, span.spanId);
    };
    expect(result.steps[0]?.output).toEqual({ tp: parentOf('cmd') });
    const request = seen.at(-1)!;
    expect(request.headers['traceparent']).toBe(parentOf('web'));
    expect(taskRequestSchema.parse(JSON.parse(request.body)).trace).toEqual({ traceparent: parentOf('web') });
    await executor.close();
  });
});
