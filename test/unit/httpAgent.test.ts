import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTask } from '../../src/actors/agent.js';
import { AttemptCancellation, withCancellation } from '../../src/actors/cancellation.js';
import { httpAgent } from '../../src/actors/httpAgent.js';
import { taskRequestSchema } from '../../src/runtime/protocol.js';

type Route = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const routes = new Map<string, Route>();
const seen: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      const route = routes.get(req.url ?? '');
      if (route) route(req, body, res);
      else res.writeHead(404).end('no route');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function task(step: string, extra: Partial<AgentTask> = {}): AgentTask {
  return withCancellation(
    {
      runId: 'run-1',
      pattern: 'p',
      step,
      capability: 'work',
      attempt: 2,
      idempotencyKey: `run-1/${step}`,
      input: { params: { n: 1 }, runInput: 'in', results: { before: 'x' } },
      context: { domain: 'general', agentType: 'general', priority: 1, attributes: {} },
      ...extra,
    },
    new AttemptCancellation(),
  );
}

const json =
  (status: number, value: unknown): Route =>
  (_req, _body, res) =>
    void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));

const failure = (p: Promise<unknown>) =>
  p.then(
    () => ({ name: 'resolved', message: '', retryable: undefined as unknown }),
    (e: Error & { details?: { retryable?: boolean } }) => ({
      name: e.name,
      message: e.message,
      retryable: e.details?.retryable,
    }),
  );

describe('httpAgent', () => {
  it('POSTs the protocol task request with Idempotency-Key and its headers; the JSON body is the output', async () => {
    routes.set('/ok', json(200, { upper: 'HI' }));
    const agent = httpAgent({
      id: 'web',
      url: `${base}/ok`,
      capabilities: ['work'],
      headers: { authorization: 'Bearer t' },
    });
    expect(await agent.execute(task('s1'))).toEqual({ upper: 'HI' });
    const request = seen.at(-1)!;
    expect(request.headers['idempotency-key']).toBe('run-1/s1');
    expect(request.headers['authorization']).toBe('Bearer t');
    expect(request.headers['content-type']).toBe('application/json');
    const envelope = taskRequestSchema.parse(JSON.parse(request.body));
    expect(envelope).toMatchObject({
      version: 1,
      kind: 'task',
      runId: 'run-1',
      step: 's1',
      attempt: 2,
      idempotencyKey: 'run-1/s1',
      deadline: null,
      input: { params: { n: 1 }, runInput: 'in', results: { before: 'x' } },
    });
    expect(agent.kind).toBe('http');
  });

  it('sends compensations with kind "compensate" and the output to undo; an empty body is null', async () => {
    routes.set('/empty', (_req, _body, res) => void res.writeHead(204).end());
    const agent = httpAgent({ id: 'web', url: `${base}/empty`, capabilities: ['work'] });
    expect(await agent.execute(task('s2'))).toBeNull();
    await agent.compensate?.({ ...task('s2'), output: { id: 7 } });
    expect(JSON.parse(seen.at(-1)!.body)).toMatchObject({ kind: 'compensate', output: { id: 7 } });
  });

  it('reports a failed status by code, retryable for 5xx/429 and not for other 4xx', async () => {
    routes.set(
      '/down',
      (_req, _body, res) => void res.writeHead(503, 'Service Unavailable').end('try later'),
    );
    routes.set('/bad', (_req, _body, res) => void res.writeHead(400, 'Bad Request').end());
    const down = httpAgent({ id: 'web', url: `${base}/down`, capabilities: ['work'] });
    const bad = httpAgent({ id: 'web', url: `${base}/bad`, capabilities: ['work'] });
    expect(await failure(down.execute(task('s3')))).toEqual({
      name: 'AgentError',
      message: 'http agent web answered 503 Service Unavailable: try later',
      retryable: true,
    });
    expect(await failure(bad.execute(task('s3')))).toEqual({
      name: 'AgentError',
      message: 'http agent web answered 400 Bad Request',
      retryable: false,
    });
  });

  it('rebuilds the error a failed answer describes in its body', async () => {
    routes.set(
      '/invalid',
      json(422, {
        error: {
          code: 'ND_PATTERN_VALIDATION',
          message: 'params.n must be even',
          name: 'PatternValidationError',
        },
      }),
    );
    routes.set(
      '/custom',
      json(500, { error: { code: 'E_QUOTA', message: 'quota spent', retryable: false } }),
    );
    const invalid = httpAgent({ id: 'web', url: `${base}/invalid`, capabilities: ['work'] });
    const custom = httpAgent({ id: 'web', url: `${base}/custom`, capabilities: ['work'] });
    expect(await failure(invalid.execute(task('s4')))).toEqual({
      name: 'PatternValidationError',
      message: 'params.n must be even',
      retryable: false,
    });
    expect(await failure(custom.execute(task('s4')))).toEqual({
      name: 'AgentError',
      message: 'E_QUOTA: quota spent',
      retryable: false,
    });
  });

  it('times out within min(timeoutMs, deadline), and refuses a task whose deadline passed', async () => {
    routes.set('/slow', (_req, _body, res) => void setTimeout(() => res.writeHead(200).end('1'), 1000));
    const agent = httpAgent({ id: 'web', url: `${base}/slow`, capabilities: ['work'], timeoutMs: 5000 });
    const started = Date.now();
    expect(await failure(agent.execute(task('s5', { deadline: Date.now() + 100 })))).toEqual({
      name: 'AgentError',
      message: `http agent web did not answer s5 within 100 ms (${base}/slow)`,
      retryable: true,
    });
    expect(Date.now() - started).toBeLessThan(900);
    expect(await failure(agent.execute(task('s5', { deadline: Date.now() - 1 })))).toEqual({
      name: 'AgentError',
      message: `deadline of step s5 passed before it was sent to ${base}/slow`,
      retryable: false,
    });
  });

  it('aborts the request when the attempt is cancelled', async () => {
    routes.set('/hang', () => undefined);
    const agent = httpAgent({ id: 'web', url: `${base}/hang`, capabilities: ['work'] });
    const t = task('s6');
    const pending = failure(agent.execute(t));
    await new Promise((r) => setTimeout(r, 50));
    (t.cancellation as AttemptCancellation).abort();
    expect(await pending).toEqual({
      name: 'AgentError',
      message: 'http agent web: s6 was aborted',
      retryable: false,
    });
  });

  it('names the endpoint when it cannot connect, and rejects a body that is not JSON', async () => {
    routes.set('/text', (_req, _body, res) => void res.writeHead(200).end('<html>hello</html>'));
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const nobody = `http://127.0.0.1:${(spare.address() as AddressInfo).port}/none`;
    await new Promise((resolve) => spare.close(resolve));
    const closed = httpAgent({ id: 'web', url: nobody, capabilities: ['work'] });
    const text = httpAgent({ id: 'web', url: `${base}/text`, capabilities: ['work'] });
    expect(await failure(closed.execute(task('s7')))).toEqual({
      name: 'AgentError',
      message: `http agent web unreachable at ${nobody}: ECONNREFUSED`,
      retryable: true,
    });
    expect(await failure(text.execute(task('s7')))).toEqual({
      name: 'AgentError',
      message: 'http agent web answered s7 with a body that is not JSON: <html>hello</html>',
      retryable: false,
    });
  });

  it('rejects malformed options naming the field', () => {
    expect(() => httpAgent({ id: 'web', url: 'ftp://x/y', capabilities: ['work'] })).toThrow(
      /httpAgent\.url.*an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => httpAgent({ id: 'web', url: `${base}/ok`, capabilities: [] })).toThrow(
      /httpAgent\.capabilities/,
    );
  });
});
