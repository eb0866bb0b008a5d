import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentTask } from '../../src/actors/agent.js';
import { AttemptCancellation, withCancellation } from '../../src/core/cancellation.js';
import { httpAgent } from '../../src/actors/httpAgent.js';
import { taskRequestSchema } from '../../src/protocol/protocol.js';

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
    (e: Error & { details?: { retryable?: boolean; agentId?: string; step?: string } }) => ({
      name: e.name,
      message: e.message,
      retryable: e.details?.retryable,
    }),
  );

const agentAt = (path: string, extra: Partial<Parameters<typeof httpAgent>[0]> = {}) =>
  httpAgent({ id: 'web', url: `${base}${path}`, capabilities: ['work'], ...extra });

describe('httpAgent', () => {
  it("POSTs the protocol task request with its headers, the runtime's winning; the JSON body is the output", async () => {
    routes.set('/ok', json(200, { upper: 'HI' }));
    const agent = agentAt('/ok', {
      headers: { authorization: 'Bearer t', 'Content-Type': 'text/plain', 'IDEMPOTENCY-KEY': 'mine' },
    });
    expect(await agent.execute(task('s1'))).toEqual({ upper: 'HI' });
    const request = seen.at(-1)!;
    expect(request.headers['idempotency-key']).toBe('"run-1/s1"');
    expect(request.headers['authorization']).toBe('Bearer t');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['accept']).toBe('application/json');
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

  it('quotes the idempotency key as a structured-field string, and refuses a header HTTP cannot carry', async () => {
    routes.set('/ok', json(200, { upper: 'HI' }));
    const agent = agentAt('/ok');
    await agent.execute(task('s1', { idempotencyKey: 'run "1"\\s1' }));
    expect(seen.at(-1)!.headers['idempotency-key']).toBe('"run \\"1\\"\\\\s1"');
    const bad = agentAt('/ok', { headers: { 'x-note': 'two\nlines' } });
    expect(await failure(bad.execute(task('s1')))).toMatchObject({
      name: 'PatternValidationError',
      message: expect.stringMatching(
        /^http agent web: cannot send the request headers: .*invalid header value/s,
      ),
      retryable: false,
    });
  });

  it('sends compensations with kind "compensate" and the output to undo; an empty or blank body is null', async () => {
    routes.set('/empty', (_req, _body, res) => void res.writeHead(204).end());
    routes.set('/blank', (_req, _body, res) => void res.writeHead(200).end('  \n'));
    expect(await agentAt('/empty').execute(task('s2'))).toBeNull();
    expect(await agentAt('/blank').execute(task('s2'))).toBeNull();
    await agentAt('/empty').compensate?.({ ...task('s2'), output: { id: 7 } });
    expect(JSON.parse(seen.at(-1)!.body)).toMatchObject({ kind: 'compensate', output: { id: 7 } });
  });

  it('classifies failed statuses: 408, 425, 429 and 5xx retryable, 501 and other 4xx not', async () => {
    const cases: [number, boolean][] = [
      [400, false],
      [404, false],
      [408, true],
      [425, true],
      [429, true],
      [500, true],
      [501, false],
      [503, true],
    ];
    for (const [status] of cases)
      routes.set(`/status/${status}`, (_req, _body, res) => void res.writeHead(status).end('nope'));
    const seenRetryable = [];
    for (const [status] of cases) {
      const f = await failure(agentAt(`/status/${status}`).execute(task('s3')));
      expect(f.message).toMatch(new RegExp(`^http agent web answered ${status} .*: nope$`));
      seenRetryable.push([status, f.retryable]);
    }
    expect(seenRetryable).toEqual(cases);
  });

  it('rebuilds the error a failed answer describes in its body, with the agent and step in its details', async () => {
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
    routes.set('/later', json(409, { error: { code: 'E_BUSY', message: 'locked', retryable: true } }));
    expect(await failure(agentAt('/invalid').execute(task('s4')))).toEqual({
      name: 'PatternValidationError',
      message: 'params.n must be even',
      retryable: false,
    });
    expect(await failure(agentAt('/custom').execute(task('s4')))).toEqual({
      name: 'AgentError',
      message: 'E_QUOTA: quota spent',
      retryable: false,
    });
    const later = await agentAt('/later')
      .execute(task('s4'))
      .catch((e: { details: unknown }) => e.details);
    expect(later).toMatchObject({ agentId: 'web', step: 's4', retryable: true });
  });

  it('does not follow a redirect', async () => {
    routes.set('/moved', (_req, _body, res) => void res.writeHead(302, 'Found', { location: '/ok' }).end());
    const before = seen.length;
    expect(await failure(agentAt('/moved').execute(task('s5')))).toEqual({
      name: 'AgentError',
      message:
        "http agent web answered 302 Found (to /ok): redirects are not followed, set the agent's url to the final endpoint",
      retryable: false,
    });
    expect(seen.slice(before).map((r) => r.path)).toEqual(['/moved']);
  });

  it('reads no more than maxMessageBytes of a 2xx body, and keeps the start of a large error page', async () => {
    routes.set('/big', json(200, 'x'.repeat(5000)));
    routes.set('/endless', (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => res.write('x'.repeat(1000)), 1);
      res.on('close', () => clearInterval(timer));
    });
    routes.set(
      '/proxy',
      (_req, _body, res) => void res.writeHead(502, 'Bad Gateway').end(`<html>${'y'.repeat(5000)}`),
    );
    const limit = { maxMessageBytes: 1000, timeoutMs: 5000 };
    const tooLarge = {
      name: 'PatternValidationError',
      message: 'answer of http agent web to s6 is over the 1000-byte limit',
      retryable: false,
    };
    expect(await failure(agentAt('/big', limit).execute(task('s6')))).toEqual(tooLarge);
    const started = Date.now();
    expect(await failure(agentAt('/endless', limit).execute(task('s6')))).toEqual(tooLarge);
    expect(Date.now() - started).toBeLessThan(2000);
    const proxy = await failure(agentAt('/proxy', limit).execute(task('s6')));
    expect(proxy).toMatchObject({ name: 'AgentError', retryable: true });
    expect(proxy.message).toMatch(/^http agent web answered 502 Bad Gateway: <html>y{194}…$/);
  });

  it('times out within min(timeoutMs, deadline); a passed deadline fails before sending (retryable)', async () => {
    routes.set('/slow', (_req, _body, res) => void setTimeout(() => res.writeHead(200).end('1'), 1000));
    const byDeadline = await failure(agentAt('/slow').execute(task('s7', { deadline: Date.now() + 100 })));
    expect(byDeadline).toMatchObject({ name: 'AgentError', retryable: true });
    // the wait is what was left of the deadline when the request went out: 100 ms less a little
    const waited = /^http agent web did not answer s7 within (\d+) ms \((.*)\)$/.exec(byDeadline.message);
    expect(waited?.[2]).toBe(`${base}/slow`);
    expect(Number(waited?.[1])).toBeGreaterThan(50);
    expect(Number(waited?.[1])).toBeLessThanOrEqual(100);
    const byOption = await failure(agentAt('/slow', { timeoutMs: 80 }).execute(task('s7')));
    expect(byOption.message).toBe(`http agent web did not answer s7 within 80 ms (${base}/slow)`);
    const before = seen.length;
    expect(await failure(agentAt('/slow').execute(task('s7', { deadline: Date.now() - 1 })))).toEqual({
      name: 'AgentError',
      message: `deadline of step s7 passed before it was sent to ${base}/slow`,
      retryable: true,
    });
    expect(seen.length).toBe(before);
  });

  it('stops when the attempt is cancelled (not retryable) or its step times out (retryable)', async () => {
    routes.set('/hang', () => undefined);
    const agent = agentAt('/hang');
    const cancelled = task('s8');
    const pending = failure(agent.execute(cancelled));
    await new Promise((r) => setTimeout(r, 50));
    (cancelled.cancellation as AttemptCancellation).abort(
      new DOMException('step s8 was cancelled', 'AbortError'),
    );
    expect(await pending).toEqual({
      name: 'AgentError',
      message: 'http agent web: s8 stopped: step s8 was cancelled',
      retryable: false,
    });
    const timedOut = task('s8');
    const waiting = failure(agent.execute(timedOut));
    await new Promise((r) => setTimeout(r, 50));
    (timedOut.cancellation as AttemptCancellation).abort(
      new DOMException('step s8 timed out after 50 ms', 'TimeoutError'),
    );
    expect(await waiting).toEqual({
      name: 'AgentError',
      message: 'http agent web: s8 stopped: step s8 timed out after 50 ms',
      retryable: true,
    });
    const before = seen.length;
    const already = task('s8');
    (already.cancellation as AttemptCancellation).abort(
      new DOMException('step s8 was cancelled', 'AbortError'),
    );
    expect((await failure(agent.execute(already))).message).toBe(
      'http agent web: s8 stopped: step s8 was cancelled',
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.length).toBe(before);
  });

  it('names the endpoint when it cannot connect or the answer is cut, and rejects a 2xx body that is not JSON', async () => {
    routes.set('/text', (_req, _body, res) => void res.writeHead(200).end('<html>hello</html>'));
    routes.set('/cut', (_req, _body, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"partial":');
      setTimeout(() => res.destroy(), 20);
    });
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const nobody = `http://127.0.0.1:${(spare.address() as AddressInfo).port}/none`;
    await new Promise((resolve) => spare.close(resolve));
    expect(
      await failure(httpAgent({ id: 'web', url: nobody, capabilities: ['work'] }).execute(task('s9'))),
    ).toEqual({
      name: 'AgentError',
      message: `http agent web unreachable at ${nobody}: ECONNREFUSED`,
      retryable: true,
    });
    const cut = await failure(agentAt('/cut').execute(task('s9')));
    expect(cut).toMatchObject({ name: 'AgentError', retryable: true });
    expect(cut.message).toMatch(/^http agent web cut its answer to s9 short: /);
    expect(await failure(agentAt('/text').execute(task('s9')))).toEqual({
      name: 'AgentError',
      message: 'http agent web answered s9 with a body that is not JSON: <html>hello</html>',
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
