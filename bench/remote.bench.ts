/**
 * Remote delegation benchmark (not a timed test): 1 KB tasks to one remote agent process over
 * loopback NATS at 1 and 100 in flight, next to raw request/reply with the same client in the
 * same run; and conflict-resolver acquire/release throughput with 100 contending clients.
 *
 * Run through `npm run bench` (it compiles the library to bench/.lib first); starts a private
 * nats-server, or uses $NATS_URL.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { AgentTask } from '../src/actors/agent.js';
import type { NatsTransport as NatsTransportType } from '../src/runtime/transport/NatsTransport.js';
import { startNatsServer } from '../test/integration/natsServer.js';
import { lib } from './lib.js';
import type { Row } from './measure.js';

const { ConflictResolver, serveConflictResolver, RemoteConflictResolver, remoteAgent, NatsTransport } = lib;

export type { Row };

const PAYLOAD = 'x'.repeat(1024);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Runs `op` for `durationMs` with `inFlight` concurrent loops; latency per op in ms. */
async function measure(
  name: string,
  inFlight: number,
  durationMs: number,
  op: (i: number) => Promise<unknown>,
): Promise<Row> {
  const latencies: number[] = [];
  let n = 0;
  const until = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        await op(n++);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    name,
    opsPerSec: Math.round((latencies.length / elapsed) * 1000),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
  };
}

function versus(row: Row, baseline: Row): Row {
  return {
    ...row,
    baseline: baseline.name,
    ratio: Math.round((row.opsPerSec / baseline.opsPerSec) * 100) / 100,
  };
}

/** Runs the remote benchmarks (≈ 20 s) and returns their rows. */
export async function runRemoteBench(options: { durationMs?: number } = {}): Promise<Row[]> {
  const durationMs = options.durationMs ?? Number(process.env['BENCH_MS'] ?? 3000);
  const server = process.env['NATS_URL'] ? undefined : await startNatsServer({ jetstream: false });
  const url = process.env['NATS_URL'] ?? server?.url ?? '';
  const logger = pino({ level: 'warn' });
  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./remoteAgentWorker.ts', import.meta.url))],
    {
      env: { ...process.env, NATS_URL: url, ND_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const transport = await NatsTransport.connect({ servers: url, name: 'bench-client' }, { logger });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bench worker did not start within 15 s')), 15_000);
      worker.stdout
        .setEncoding('utf8')
        .on('data', (c: string) => c.includes('ready') && (clearTimeout(timer), resolve()));
    });
    const nc = transport.connection;
    const raw = new TextEncoder().encode(JSON.stringify({ payload: PAYLOAD }));
    const agent = remoteAgent({ transport, name: 'bench-echo', capabilities: ['echo'], timeoutMs: 10_000 });
    const task = (i: number): AgentTask => ({
      runId: 'bench',
      pattern: 'bench',
      step: `s${i}`,
      capability: 'echo',
      attempt: 1,
      idempotencyKey: `bench/${i}/${Math.random()}`,
      input: { params: PAYLOAD, runInput: null, results: {} },
      context: { domain: 'bench', agentType: 'bench', priority: 1, attributes: {} },
      signal: new AbortController().signal,
    });
    await measure('warmup', 10, 500, () => nc.request('bench.raw', raw, { timeout: 10_000 }));
    await measure('warmup', 10, 500, (i) => agent.execute(task(i)));
    const rows: Row[] = [];
    for (const inFlight of [1, 100]) {
      const rawRow = await measure(`raw request/reply 1KB, ${inFlight} in flight`, inFlight, durationMs, () =>
        nc.request('bench.raw', raw, { timeout: 10_000 }),
      );
      const remote = await measure(
        `remote delegation 1KB, ${inFlight} in flight`,
        inFlight,
        durationMs,
        (i) => agent.execute(task(i)),
      );
      rows.push(rawRow, versus(remote, rawRow));
    }
    rows.push(await resolverBench('in-process', durationMs));
    rows.push(await resolverBench('nats', durationMs, transport));
    return rows;
  } finally {
    worker.kill('SIGKILL');
    await transport.close();
    await server?.stop();
  }
}

/** 100 clients loop acquire → release on 10 names (10 contenders per name), priorities 1..5. */
async function resolverBench(
  where: 'in-process' | 'nats',
  durationMs: number,
  transport?: NatsTransportType,
): Promise<Row> {
  const resolver = new ConflictResolver();
  const served =
    where === 'nats' && transport
      ? await serveConflictResolver({ transport, resolver, prefix: 'bench', logger: pino({ level: 'warn' }) })
      : undefined;
  const clients =
    served && transport
      ? await Promise.all(
          Array.from({ length: 100 }, () => RemoteConflictResolver.connect({ transport, prefix: 'bench' })),
        )
      : [];
  try {
    let k = 0;
    const loops = Array.from({ length: 100 }, (_, c) => c);
    const row = await measure(`resolver acquire+release, 100 clients (${where})`, 1, durationMs, async () => {
      // one op = one acquire+release by each of the 100 contending clients, all at once
      await Promise.all(
        loops.map(async (c) => {
          const arbiter = clients[c] ?? resolver;
          const release = await arbiter.acquire([`r${c % 10}`], {
            owner: `client${c}-${k++}`,
            priority: (c % 5) + 1,
          });
          await release();
        }),
      );
    });
    return { ...row, opsPerSec: row.opsPerSec * 100, p50Ms: row.p50Ms, p99Ms: row.p99Ms };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await served?.stop();
    resolver.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await runRemoteBench();
  console.table(rows);
  process.exit(0);
}
