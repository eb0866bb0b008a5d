/**
 * Shared circuit breaker state with two (and three) processes' boards on their own connections:
 * an open seen by one is seen by all, exactly one half-open probe cluster-wide, its outcome
 * closes or reopens for all, and a probe whose process died is re-claimed after its timeout.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SharedBreakerBoard,
  type SharedBreakerState,
} from '../../src/cluster/sharedBreaker/SharedBreakerBoard.js';
import { isPatternValidationError } from '../../src/core/errors.js';
import { startNatsServer, type NatsServer } from './natsServer.js';

let server: NatsServer;
const connections: NatsConnection[] = [];
let n = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
};

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
});

/** Boards of `owners` on connections of their own, sharing a bucket. */
const boards = async (
  owners: string[],
  options: { recoveryTimeoutMs?: number; probeTimeoutMs?: number } = {},
) => {
  n += 1;
  return Promise.all(
    owners.map(async (owner) => {
      const connection = await connect({ servers: server.url });
      connections.push(connection);
      return SharedBreakerBoard.open({ connection, owner, bucket: `breakers_${n}`, ...options });
    }),
  );
};

describe('cluster-wide circuit breaker state', () => {
  it('an open seen by one process is seen by all, and refuses calls there too', async () => {
    const [a, b] = await boards(['A', 'B'], { recoveryTimeoutMs: 60_000 });
    const seenByB: SharedBreakerState[] = [];
    b!.onChange((s) => seenByB.push(s));
    expect(await b!.admit('billing')).toMatchObject({ ok: true, probe: false });
    await a!.recordOpened('billing');
    await until(() => seenByB.length > 0);
    expect(seenByB[0]).toMatchObject({ agentId: 'billing', state: 'open', by: 'A', generation: 1 });
    const refused = await b!.admit('billing');
    expect(refused).toMatchObject({ ok: false, state: 'open' });
    expect(refused.ok === false && refused.retryAt).toBe(seenByB[0]!.openedAt! + 60_000);
    expect(await b!.admit('other-agent')).toMatchObject({ ok: true, probe: false });
    expect((await b!.recordOpened('billing')).generation).toBe(1); // already open: no new transition
    a!.close();
    b!.close();
  });

  it('lets exactly one of three processes probe after the recovery timeout; success closes for all', async () => {
    const all = await boards(['A', 'B', 'C'], { recoveryTimeoutMs: 200 });
    const [a, b, c] = all as [SharedBreakerBoard, SharedBreakerBoard, SharedBreakerBoard];
    await a.recordOpened('billing');
    await until(() => b.state('billing').state === 'open' && c.state('billing').state === 'open');
    await sleep(250);
    const answers = await Promise.all(all.map((x) => x.admit('billing')));
    const probes = answers.filter((x) => x.ok);
    expect(probes).toHaveLength(1);
    expect(answers.filter((x) => !x.ok).every((x) => !x.ok && x.state === 'halfOpen')).toBe(true);
    const winner = all[answers.findIndex((x) => x.ok)]!;
    const probe = probes[0] as { ok: true; probe: boolean; generation: number };
    expect(probe.probe).toBe(true);
    await until(() => all.every((x) => x.state('billing').state === 'halfOpen'));
    expect(all.map((x) => x.state('billing').probeOwner)).toEqual(Array(3).fill(winner.owner));
    expect(await winner.recordProbe('billing', probe.generation, true)).toBe(true);
    await until(() => all.every((x) => x.state('billing').state === 'closed'));
    expect(await c.admit('billing')).toMatchObject({ ok: true, probe: false });
    all.forEach((x) => x.close());
  });

  it('a failed probe reopens for all; a probe whose process died is re-claimed after its timeout', async () => {
    const [a, b] = (await boards(['A', 'B'], { recoveryTimeoutMs: 100, probeTimeoutMs: 300 })) as [
      SharedBreakerBoard,
      SharedBreakerBoard,
    ];
    await a.recordOpened('search');
    await sleep(150);
    const first = await a.admit('search');
    expect(first).toMatchObject({ ok: true, probe: true });
    await a.recordProbe('search', (first as { generation: number }).generation, false);
    await until(() => b.state('search').state === 'open' && b.state('search').by === 'A');
    expect(await b.admit('search')).toMatchObject({ ok: false, state: 'open' });
    await sleep(150);
    const claimed = await b.admit('search'); // B probes, then "dies" without reporting
    expect(claimed).toMatchObject({ ok: true, probe: true });
    await until(() => a.state('search').probeOwner === 'B');
    expect(await a.admit('search')).toMatchObject({ ok: false, state: 'halfOpen' });
    await sleep(350);
    const reclaimed = await a.admit('search');
    expect(reclaimed).toMatchObject({ ok: true, probe: true });
    // The dead probe's late answer belongs to an older generation and moves nothing.
    expect(await b.recordProbe('search', (claimed as { generation: number }).generation, true)).toBe(false);
    expect(await a.recordProbe('search', (reclaimed as { generation: number }).generation, true)).toBe(true);
    await until(() => b.state('search').state === 'closed');
    a.close();
    b.close();
  });

  it('validates its options, naming the field', async () => {
    const connection = await connect({ servers: server.url });
    connections.push(connection);
    await expect(SharedBreakerBoard.open({ connection, owner: '' })).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'SharedBreakerBoard.options.owner',
    );
  });
});
