/**
 * `ndf worker`, `ndf submit`, and `ndf runs` / `runs show` / `signal` / `cancel` with --nats, as
 * a user runs them against a private nats-server with JetStream: a run submitted with --wait
 * exits with its status's code, a run id submitted again starts nothing new, a signal and a
 * cancel reach the worker that drives the run, and bad input is reported without a stack.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../integration/natsServer.js';
import { ndf, parseJsonl, startNdf, type NdfProcess } from './cli.js';

const FILE = 'test/integration/fixtures/workers/workflow.yaml';
let server: NatsServer;
let worker: NdfProcess;
let dir: string;

beforeAll(async () => {
  server = await startNatsServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ndf-e2e-workers-'));
  worker = startNdf(['worker', FILE, '--nats', server.url, '--concurrency', '4', '--lease-ttl', '2000'], {
    env: { KEY_LOG: path.join(dir, 'keys.log'), WORKER_ID: 'e2e' },
  });
  await worker.printed(/serving four, approval/);
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ndf worker and ndf submit', () => {
  it('submit --wait exits with the run status; the same run id again starts nothing new', async () => {
    const args = ['submit', FILE, '--nats', server.url, '--run-id', 'e2e-1', '--wait', '--json'];
    const first = await ndf(args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const [submitted, result] = parseJsonl(first.stdout);
    expect(submitted).toEqual({ type: 'run.submitted', runId: 'e2e-1', outcome: 'queued' });
    expect(result).toMatchObject({ type: 'run.result', result: { status: 'succeeded', runId: 'e2e-1' } });
    const again = await ndf(args);
    expect(again.code).toBe(0);
    expect(parseJsonl(again.stdout)[0]).toMatchObject({ outcome: 'exists' });
    const keys = readFileSync(path.join(dir, 'keys.log'), 'utf8').trim().split('\n');
    expect(keys.filter((k) => k.includes('e2e-1/'))).toHaveLength(4); // each step once
    const runs = await ndf(['runs', '--nats', server.url, '--json']);
    expect(parseJsonl(runs.stdout)).toContainEqual(
      expect.objectContaining({ runId: 'e2e-1', status: 'succeeded' }),
    );
    const show = await ndf(['runs', 'show', 'e2e-1', '--nats', server.url, '--json']);
    expect(JSON.parse(show.stdout)).toMatchObject({ runId: 'e2e-1', status: 'succeeded' });
    expect(worker.output()).toMatch(/✔ run e2e-1 succeeded/);
    // The worker shares what it learned: each step's agent outcome, then the run's pattern outcome.
    const c = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(c);
      const { state } = await jsm.streams.info('NDF_LEARNING');
      expect(state.messages).toBe(5);
      const last = await jsm.streams.getMessage('NDF_LEARNING', { seq: state.last_seq });
      expect(last?.json()).toMatchObject({ outcome: { kind: 'pattern', pattern: 'four', success: true } });
      const first = await jsm.streams.getMessage('NDF_LEARNING', { seq: state.first_seq });
      expect(first?.json()).toMatchObject({
        outcome: { kind: 'agent', capability: 'work', agent: 'logger', success: true },
      });
    } finally {
      await c.close();
    }
  }, 60_000);

  it('signal and cancel reach the worker that drives the run', async () => {
    for (const id of ['e2e-ap', 'e2e-cx'])
      expect(
        (await ndf(['submit', FILE, '--nats', server.url, '--pattern', 'approval', '--run-id', id])).code,
      ).toBe(0);
    const waiting = async (id: string) => {
      for (;;) {
        const show = await ndf(['runs', 'show', id, '--nats', server.url, '--json']);
        if (show.code === 0 && (JSON.parse(show.stdout) as { status: string }).status === 'waiting') return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await Promise.all([waiting('e2e-ap'), waiting('e2e-cx')]);
    const signal = await ndf(['signal', 'e2e-ap', 'approved', '--data', '{"ok":true}', '--nats', server.url]);
    expect(signal.code).toBe(0);
    expect(signal.stderr).toMatch(/signal approved delivered to run e2e-ap on worker/);
    const done = await ndf([
      'submit',
      FILE,
      '--nats',
      server.url,
      '--pattern',
      'approval',
      '--run-id',
      'e2e-ap',
      '--wait',
      '--json',
    ]);
    expect(done.code).toBe(0);
    expect(parseJsonl(done.stdout)[1]).toMatchObject({ result: { status: 'succeeded' } });
    const cancel = await ndf(['cancel', 'e2e-cx', '--reason', 'test', '--nats', server.url, '--json']);
    expect(cancel.code).toBe(0);
    expect(parseJsonl(cancel.stdout)[0]).toMatchObject({ result: { status: 'cancelled' } });
  }, 60_000);

  it('reports bad input without a stack trace', async () => {
    const unknown = await ndf(['submit', FILE, '--nats', server.url, '--pattern', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no pattern "nope" in the workflow \(patterns: four, approval\)/);
    const noServer = await ndf(['runs', '--nats', 'nats://127.0.0.1:1']);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
    const badConcurrency = await ndf(['worker', FILE, '--nats', server.url, '--concurrency', '0']);
    expect(badConcurrency.code).toBe(2);
    expect(badConcurrency.stderr).toMatch(/--concurrency must be a whole number/);
    for (const r of [unknown, noServer, badConcurrency]) expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
