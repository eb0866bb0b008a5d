import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import { serveAgent, type ServedAgent } from '../../src/actors/serveAgent.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import type { NatsTransportOptionsInput } from '../../src/transport/natsOptions.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { baseTask } from './retry.js';

/**
 * Reply forgery (issue 9): an attacker who knows the reply subject of a task request publishes a
 * forged `{"status":"ok"}` (or a fake 503 "no responders") there before the real agent answers.
 * Without the permissions of fixtures/nats-secure.conf the runner accepts the forgery; with them
 * (and the runner's own inbox prefix) it gets the real agent's answer.
 */

const logger = pino({ level: 'silent' });
const secureConf = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'nats-secure.conf');
const forged = { version: 1, status: 'ok', output: { forged: true } };
const real = { real: true };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function start(args: string[]): Promise<NatsServer> {
  const server = await startNatsServer({ jetstream: false, control: true, args });
  cleanups.push(() => server.stop());
  return server;
}

async function transport(options: NatsTransportOptionsInput): Promise<NatsTransport> {
  const t = await NatsTransport.connect({ reconnect: false, ...options }, { logger });
  cleanups.push(() => t.close());
  return t;
}

async function raw(
  url: string,
  user?: string,
  pass?: string,
): Promise<{ nc: NatsConnection; errors: string[] }> {
  const nc = await connect({ servers: url, reconnect: false, ...(user ? { user, pass } : {}) });
  cleanups.push(() => nc.close());
  const errors: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') errors.push(s.error.message);
  })();
  return { nc, errors };
}

/** The real agent answers after 300 ms: time enough for a forgery to arrive first. */
async function serveEcho(t: NatsTransport): Promise<ServedAgent> {
  const served = await serveAgent({
    transport: t,
    name: 'echo',
    capabilities: ['echo'],
    logger,
    handler: async () => {
      await new Promise((r) => setTimeout(r, 300));
      return real;
    },
  });
  cleanups.push(() => served.stop());
  return served;
}

/** The spy sees each task request and hands its reply subject to the intruder, who forges replies. */
async function forgeOnEveryRequest(
  spy: NatsConnection,
  intruder: NatsConnection,
  kind: 'ok' | 'noResponders',
): Promise<string[]> {
  const seen: string[] = [];
  spy.subscribe('nd.agent.echo.task', {
    callback: (_error, msg) => {
      if (!msg.reply) return;
      seen.push(msg.reply);
      if (kind === 'ok') intruder.publish(msg.reply, JSON.stringify(forged));
      else intruder.publish(msg.reply, new Uint8Array(), { headers: headers(503, 'No Responders') });
    },
  });
  await spy.flush();
  return seen;
}

function runTask(runner: NatsTransport, step: string): Promise<unknown> {
  const agent = remoteAgent({ transport: runner, id: 'echo', name: 'echo', capabilities: ['echo'] });
  return agent.execute({
    ...baseTask('run-forgery', step),
    attempt: 1,
    signal: new AbortController().signal,
  });
}

describe('reply forgery', () => {
  it('without the permissions setup, a forged reply or a fake 503 is accepted (the threat)', async () => {
    const server = await start([]);
    const runner = await transport({ servers: server.url });
    await serveEcho(await transport({ servers: server.url }));
    const { nc: attacker } = await raw(server.url);
    // an attacker can even read every reply: _INBOX.> is open
    const replies: string[] = [];
    attacker.subscribe('_INBOX.>', { callback: (_e, m) => void replies.push(m.subject) });
    await attacker.flush();
    const seen = await forgeOnEveryRequest(attacker, attacker, 'ok');
    await expect(runTask(runner, 'a')).resolves.toEqual({ forged: true });
    expect(seen).toHaveLength(1);
    // the attacker's copy of the reply may arrive just after the runner's
    await vi.waitFor(() => expect(replies).toContain(seen[0]));

    await attacker.close(); // one forger at a time
    const { nc: spy2 } = await raw(server.url);
    await forgeOnEveryRequest(spy2, spy2, 'noResponders');
    await expect(runTask(runner, 'b')).rejects.toThrow(/no instance of remote agent echo is listening/);
  });

  it('under fixtures/nats-secure.conf, forged replies and fake 503s are refused and the real answer wins', async () => {
    const server = await start(['-c', secureConf]);
    const runner = await transport({
      servers: server.url,
      user: 'runner',
      pass: 'runner-pw',
      inboxPrefix: '_INBOX_runner',
    });
    await serveEcho(await transport({ servers: server.url, user: 'agent-echo', pass: 'echo-pw' }));
    const { nc: spy } = await raw(server.url, 'spy', 'spy-pw');
    const { nc: intruder, errors } = await raw(server.url, 'agent-intruder', 'intruder-pw');
    // the intruder cannot read replies: any inbox subscription is refused
    const read: string[] = [];
    const onInbox = (e: Error | null, m: { subject: string } | undefined): void => {
      if (e) errors.push(e.message);
      else if (m) read.push(m.subject);
    };
    intruder.subscribe('_INBOX.>', { callback: onInbox });
    intruder.subscribe('_INBOX_runner.>', { callback: onInbox });
    await intruder.flush().catch(() => undefined);

    const seenOk = await forgeOnEveryRequest(spy, intruder, 'ok');
    await expect(runTask(runner, 'a')).resolves.toEqual(real);
    expect(seenOk[0]).toMatch(/^_INBOX_runner\./);

    const { nc: spy2 } = await raw(server.url, 'spy', 'spy-pw');
    await forgeOnEveryRequest(spy2, intruder, 'noResponders');
    await expect(runTask(runner, 'b')).resolves.toEqual(real);

    expect(read).toEqual([]);
    await new Promise((r) => setTimeout(r, 100)); // the server's -ERR lines arrive asynchronously
    expect(errors.join('\n')).toMatch(/Permissions Violation for Subscription to "_INBOX\.>"/i);
    expect(errors.join('\n')).toMatch(/Permissions Violation for Publish to "_INBOX_runner\./i);
  });

  it('under fixtures/nats-secure.conf, a runner without its inbox prefix cannot get replies at all', async () => {
    const server = await start(['-c', secureConf]);
    await serveEcho(await transport({ servers: server.url, user: 'agent-echo', pass: 'echo-pw' }));
    const runner = await transport({ servers: server.url, user: 'runner', pass: 'runner-pw' });
    await expect(runner.request('nd.agent.echo.task', new Uint8Array(), { timeoutMs: 500 })).rejects.toThrow(
      /Permissions Violation for Subscription to "_INBOX\./i,
    );
  });
});
