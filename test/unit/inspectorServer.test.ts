import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.js';
import { isPatternValidationError } from '../../src/core/errors.js';
import { InspectorServer, parsePortText } from '../../src/inspector/index.js';

const servers: InspectorServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Parameters<typeof InspectorServer.start>[0] = {}): Promise<InspectorServer> {
  const server = await InspectorServer.start(options);
  servers.push(server);
  return server;
}

/** A raw GET (fetch cannot set Host), resolving with status, headers and body. */
function get(
  server: InspectorServer,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads `/events` until `count` messages arrived, then disconnects. */
async function readEvents(
  server: InspectorServer,
  count: number,
  lastId?: number,
): Promise<Array<{ id: string | undefined; event: string | undefined; data: unknown }>> {
  const controller = new AbortController();
  const res = await fetch(`${server.url}events`, {
    signal: controller.signal,
    headers: lastId === undefined ? {} : { 'last-event-id': String(lastId) },
  });
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let text = '';
  const messages: Array<{ id: string | undefined; event: string | undefined; data: unknown }> = [];
  while (messages.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = text.indexOf('\n\n')) !== -1) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((l) => !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
      );
      if (fields.data !== undefined)
        messages.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) });
    }
  }
  controller.abort();
  return messages;
}

const ev = (runId: string, type: 'run.started' | 'step', at: number, message?: string): RunEvent =>
  type === 'run.started'
    ? { type, at, runId, pattern: 'etl', patternType: 'SequentialDelegationPattern' }
    : {
        type: 'step.status',
        at,
        runId,
        path: ['etl'],
        step: 'load',
        status: message ? 'failed' : 'running',
        attempt: 1,
        ...(message ? { error: { name: 'AgentError', code: 'ND_AGENT', message } } : {}),
      };

describe('InspectorServer', () => {
  it('binds 127.0.0.1 by default, on a free port', async () => {
    const server = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.port).toBeGreaterThan(0);
    const page = await get(server, '/');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="/app.js"></script>');
    expect((await get(server, '/app.js')).type).toBe('text/javascript; charset=utf-8');
    expect((await get(server, '/app.css')).type).toBe('text/css; charset=utf-8');
  });

  it('is not reachable on the other interfaces of this machine', async () => {
    const server = await start();
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i !== undefined && !i.internal && i.family === 'IPv4')
      .map((i) => i!.address);
    for (const address of others) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: address, port: server.port });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(`${address}: ${outcome}`).toBe(`${address}: ECONNREFUSED`);
    }
  });

  it('refuses a non-loopback Host (DNS rebinding) and methods other than GET', async () => {
    const server = await start();
    const rebound = await get(server, '/api/runs', { host: `evil.example:${server.port}` });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toEqual({
      error: `Host evil.example:${server.port} refused: the inspector answers loopback names only`,
    });
    expect((await get(server, '/api/runs', { host: `localhost:${server.port}` })).status).toBe(200);
    const post = await get(server, '/api/runs', {}, 'POST');
    expect(post.status).toBe(405);
  });

  it('rejects bad options with errors naming the field', async () => {
    for (const [options, field] of [
      [{ port: -1 }, 'inspector options.port'],
      [{ port: 65_536 }, 'inspector options.port'],
      [{ port: 80.5 }, 'inspector options.port'],
      [{ port: '4000' }, 'inspector options.port'],
      [{ host: '' }, 'inspector options.host'],
      [{ prot: 4000 }, 'inspector options'],
      [{ patterns: 'etl' }, 'inspector options.patterns'],
    ] as const) {
      const error: unknown = await InspectorServer.start(options as never).then(
        (s) => (servers.push(s), undefined),
        (e: unknown) => e,
      );
      expect(isPatternValidationError(error), JSON.stringify(options)).toBe(true);
      expect((error as Error).message).toContain(field);
    }
  });

  it('parses a command-line port', () => {
    expect(parsePortText('4800', '--port')).toBe(4800);
    expect(parsePortText('0', '--inspect')).toBe(0);
    expect(() => parsePortText('http', '--inspect')).toThrow(/--inspect: must be a port number/);
    expect(() => parsePortText('70000', '--port')).toThrow(/--port/);
  });

  it('streams events as SSE, replays all to a new page and only what a reconnecting page missed', async () => {
    const server = await start();
    server.publish(ev('r1', 'run.started', 1));
    server.publish({
      type: 'transition',
      at: 1,
      runId: 'r1',
      actor: 'a',
      machine: 'm',
      state: 's',
      event: 'e',
    });
    server.publish(ev('r1', 'step', 2));
    const all = await readEvents(server, 2);
    expect(all.map((m) => [m.id, m.event, (m.data as RunEvent).type])).toEqual([
      ['1', 'run', 'run.started'],
      ['2', 'run', 'step.status'],
    ]);
    const live = readEvents(server, 2, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.publish(ev('r1', 'step', 3, 'cannot reach nats://user:s3cret@10.0.0.9:4222'));
    const missed = await live;
    expect(missed.map((m) => m.id)).toEqual(['2', '3']);
    expect((missed[1]?.data as { error: { message: string } }).error.message).toBe(
      'cannot reach nats://user:***@10.0.0.9:4222',
    );
  });

  it('announces a recorded result and serves runs, outputs and the diagram', async () => {
    const server = await start({ patterns: () => undefined });
    server.publish(ev('r1', 'run.started', 1));
    server.publish(ev('r1', 'step', 2, 'boom'));
    expect((await get(server, '/api/runs/r1/outputs')).status).toBe(404);
    const stream = readEvents(server, 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.record({
      runId: 'r1',
      pattern: 'etl',
      status: 'failed',
      success: false,
      startedAt: 1,
      durationMs: 5,
      steps: [
        {
          name: 'load',
          path: ['etl'],
          status: 'failed',
          attempts: 1,
          durationMs: 3,
          output: 7n,
          compensation: 'none',
        },
      ],
    });
    expect((await stream)[2]).toEqual({ id: undefined, event: 'result', data: { runId: 'r1' } });
    const late = await readEvents(server, 3);
    expect(late.map((m) => [m.id, m.event])).toEqual([
      ['1', 'run'],
      ['2', 'run'],
      [undefined, 'result'],
    ]);
    expect(JSON.parse((await get(server, '/api/runs')).body)).toEqual([
      {
        runId: 'r1',
        pattern: 'etl',
        patternType: 'SequentialDelegationPattern',
        startedAt: 1,
        status: 'failed',
        durationMs: 5,
        hasOutputs: true,
      },
    ]);
    expect(JSON.parse((await get(server, '/api/runs/r1/outputs')).body)).toEqual({
      runId: 'r1',
      outputs: [{ key: '["etl","load"]', output: '7' }],
    });
    const run = JSON.parse((await get(server, '/api/runs/r1')).body) as { events: RunEvent[] };
    expect(run.events.map((e) => e.type)).toEqual(['run.started', 'step.status']);
    const diagram = JSON.parse((await get(server, '/api/runs/r1/diagram')).body) as {
      source: string;
      svg: string;
      nodes: Record<string, { key: string }>;
    };
    expect(diagram.source).toBe('trace');
    expect(diagram.svg).toContain('<svg');
    expect(Object.values(diagram.nodes)).toEqual([{ key: '["etl","load"]', role: 'step' }]);
    expect((await get(server, '/api/runs/nope')).status).toBe(404);
    expect((await get(server, '/nope')).status).toBe(404);
  });

  it('watches an event source and stops when disposed', async () => {
    const server = await start();
    let listener: ((e: RunEvent) => void) | undefined;
    const dispose = server.watch({
      onEvent: (l) => {
        listener = l;
        return () => (listener = undefined);
      },
    });
    listener?.(ev('w', 'run.started', 1));
    expect(JSON.parse((await get(server, '/api/runs')).body)).toHaveLength(1);
    dispose();
    expect(listener).toBeUndefined();
  });

  it('fails to start on a port in use, naming the error', async () => {
    const first = await start();
    await expect(InspectorServer.start({ port: first.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
