import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { AgentTask } from '../../src/actors/agent.js';
import { discoverAgents } from '../../src/actors/discoverAgents.js';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import { serveAgent } from '../../src/actors/serveAgent.js';
import { isAgentError, isNoCapableAgentError } from '../../src/core/errors.js';
import { toTaskRequest } from '../../src/protocol/protocol.js';
import { MemoryTransport } from '../../src/transport/MemoryTransport.js';
import { decodeText, encodeJson } from '../../src/transport/Transport.js';

const logger = pino({ level: 'silent' });

function task(step: string, attempt = 1, capability = 'echo'): AgentTask {
  return {
    runId: 'r1',
    pattern: 'p',
    step,
    capability,
    attempt,
    idempotencyKey: `r1/${step}`,
    input: { params: step, runInput: null, results: {} },
    context: { domain: 'general', agentType: 'general', priority: 1, attributes: {} },
    signal: new AbortController().signal,
  };
}

async function rejection(p: Promise<unknown>): Promise<Error & { details: { retryable?: boolean } }> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error & { details: { retryable?: boolean } },
  );
}

describe('serveAgent over MemoryTransport', () => {
  it('answers a completed idempotency key from its store and joins an in-flight one', async () => {
    const transport = new MemoryTransport();
    let runs = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const served = await serveAgent({
      transport,
      logger,
      name: 'echo',
      capabilities: ['echo'],
      handler: async (t) => {
        runs += 1;
        await gate;
        return { step: t.step, attempt: t.attempt };
      },
    });
    const agent = remoteAgent({ transport, name: 'echo', capabilities: ['echo'], timeoutMs: 5000 });
    const first = agent.execute(task('a', 1));
    const joined = agent.execute(task('a', 2));
    await new Promise((r) => setImmediate(r));
    release();
    expect(await first).toEqual({ step: 'a', attempt: 1 });
    expect(await joined).toEqual({ step: 'a', attempt: 1 });
    expect(await agent.execute(task('a', 3))).toEqual({ step: 'a', attempt: 1 });
    expect(runs).toBe(1);
    expect(served.stats()).toMatchObject({ received: 3, executed: 1, deduplicated: 2 });
  });

  it('runs a retryable failure again, but replays a permanent one', async () => {
    const transport = new MemoryTransport();
    const runs: string[] = [];
    await serveAgent({
      transport,
      logger,
      name: 'flaky',
      capabilities: ['echo'],
      handler: (t) => {
        runs.push(`${t.step}#${t.attempt}`);
        if (t.step === 'transient' && t.attempt === 1) throw new Error('try again');
        if (t.step === 'permanent') throw Object.assign(new Error('never'), { name: 'Fatal' });
        return 'ok';
      },
    });
    const agent = remoteAgent({ transport, name: 'flaky', capabilities: ['echo'] });
    const e1 = await rejection(agent.execute(task('transient', 1)));
    expect(isAgentError(e1)).toBe(true);
    expect(e1.details.retryable).toBe(true);
    expect(await agent.execute(task('transient', 2))).toBe('ok');
    expect(runs).toEqual(['transient#1', 'transient#2']);
  });

  it('answers malformed, wrong-version, oversized and not-capable requests with an error reply and keeps serving', async () => {
    const transport = new MemoryTransport();
    const served = await serveAgent({
      transport,
      logger,
      name: 'echo',
      capabilities: ['echo'],
      maxMessageBytes: 4096,
      handler: () => 'fine',
    });
    const ask = async (data: Uint8Array) => {
      const reply = await transport.request('nd.agent.echo.task', data, { timeoutMs: 1000 });
      return {
        code: reply.headers['Nats-Service-Error-Code'],
        body: JSON.parse(decodeText(reply.data)) as { error: { message: string; retryable: boolean } },
      };
    };
    const malformed = await ask(new TextEncoder().encode('{"version":1,'));
    expect(malformed.code).toBe('400');
    expect(malformed.body.error.message).toMatch(/not valid JSON/);
    const v9 = await ask(encodeJson({ ...toTaskRequest(task('x'), 'task'), version: 9 }));
    expect(v9.body.error.message).toMatch(/unsupported protocol version 9/);
    const big = await ask(encodeJson({ ...toTaskRequest(task('x'), 'task'), pad: 'x'.repeat(5000) }));
    expect(big.code).toBe('413');
    expect(big.body.error.retryable).toBe(false);
    const agent = remoteAgent({ transport, name: 'echo', capabilities: ['sum'] });
    const notCapable = await rejection(agent.execute(task('x', 1, 'sum')));
    expect(isNoCapableAgentError(notCapable)).toBe(true);
    expect(notCapable.details.retryable).toBe(false);
    expect(await remoteAgent({ transport, name: 'echo', capabilities: ['echo'] }).execute(task('y'))).toBe(
      'fine',
    );
    expect(served.stats().rejected).toBe(4);
  });

  it('is discoverable through $SRV.INFO/STATS like a NATS micro service', async () => {
    const transport = new MemoryTransport();
    await serveAgent({
      transport,
      logger,
      name: 'sum',
      capabilities: ['add', 'mul'],
      maxConcurrent: 4,
      handler: () => 0,
    });
    await serveAgent({
      transport,
      logger,
      name: 'sum',
      capabilities: ['add', 'mul'],
      maxConcurrent: 4,
      handler: () => 0,
    });
    transport.subscribe('$SRV.INFO', (m) =>
      m.respond(encodeJson({ name: 'other', id: 'x', version: '1.0.0', metadata: {} })),
    );
    const found = await discoverAgents(transport, { timeoutMs: 50 });
    expect(found.map((a) => [a.name, a.capabilities, a.maxConcurrent, a.instances.length])).toEqual([
      ['sum', ['add', 'mul'], 4, 2],
    ]);
  });

  it('fails fast with a clear error naming the agent when nobody serves it', async () => {
    const agent = remoteAgent({ transport: new MemoryTransport(), name: 'ghost', capabilities: ['x'] });
    const error = await rejection(agent.execute(task('s', 1, 'x')));
    expect(error.message).toBe(
      'no instance of remote agent ghost is listening on nd.agent.ghost.task (is `ndf agent --name ghost` running?)',
    );
    expect(error.details).toMatchObject({ agentId: 'ghost', retryable: true });
  });

  it('does not send a task whose deadline has passed, and lets the retry (with its own deadline) try', async () => {
    const transport = new MemoryTransport();
    let sent = 0;
    transport.subscribe('nd.agent.late.task', () => (sent += 1));
    const agent = remoteAgent({ transport, name: 'late', capabilities: ['echo'] });
    const error = await rejection(agent.execute({ ...task('s'), deadline: Date.now() - 1 }));
    expect(error.message).toBe('deadline of step s passed before it was sent to remote agent late');
    expect(error.details).toMatchObject({ agentId: 'late', step: 's', retryable: true });
    expect(sent).toBe(0);
  });

  it("a cancelled task aborts the handler's signal with the caller's reason; a spread copy of the task keeps the signal", async () => {
    const transport = new MemoryTransport();
    let started: () => void = () => undefined;
    const running = new Promise<void>((r) => (started = r));
    let seen: { aborted: boolean; reason: unknown; sameAfterSpread: boolean } | undefined;
    const served = await serveAgent({
      transport,
      logger,
      name: 'slow',
      capabilities: ['echo'],
      handler: async (t) => {
        const copy = { ...t };
        started();
        await new Promise<void>((resolve) => t.signal.addEventListener('abort', () => resolve()));
        seen = {
          aborted: t.signal.aborted,
          reason: t.signal.reason,
          sameAfterSpread: copy.signal === t.signal,
        };
        throw new Error('stopped');
      },
    });
    const agent = remoteAgent({ transport, name: 'slow', capabilities: ['echo'], timeoutMs: 5000 });
    const controller = new AbortController();
    const pending = rejection(agent.execute({ ...task('c'), signal: controller.signal }));
    await running;
    controller.abort(new Error('run cancelled'));
    expect((await pending).message).toMatch(/aborted/);
    await vi.waitFor(() => expect(seen).toBeDefined());
    expect(seen).toEqual({ aborted: true, reason: new Error('run cancelled'), sameAfterSpread: true });
    expect(served.stats()).toMatchObject({ cancelled: 1, failed: 1 });
  });

  it("aborts the handler's signal at the task's deadline, and hands a compensation the output to undo", async () => {
    const transport = new MemoryTransport();
    let reason: unknown;
    const undone: unknown[] = [];
    await serveAgent({
      transport,
      logger,
      name: 'timed',
      capabilities: ['echo'],
      handler: (t) =>
        new Promise((_, reject) =>
          t.signal.addEventListener('abort', () => {
            reason = t.signal.reason;
            reject(t.signal.reason as Error);
          }),
        ),
      compensate: (t) => void undone.push(t.output),
    });
    const agent = remoteAgent({ transport, name: 'timed', capabilities: ['echo'], timeoutMs: 5000 });
    const error = await rejection(agent.execute({ ...task('d'), deadline: Date.now() + 30 }));
    expect(error.message).toMatch(/deadline of d passed|did not answer/);
    await vi.waitFor(() => expect((reason as Error | undefined)?.message).toBe('deadline of d passed'));
    await agent.compensate?.({ ...task('d'), idempotencyKey: 'r1/d/compensate', output: { made: 1 } });
    expect(undone).toEqual([{ made: 1 }]);
  });
});
