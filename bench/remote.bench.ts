/**
 * Remote delegation benchmark (not a timed test): 1 KB tasks to one remote agent process over
 * loopback NATS at 1 and 100 in flight, next to raw request/reply with the same client in the
 * same run (measured in alternating 1 s rounds, see measureRounds); and conflict-resolver
 * acquire/release throughput with 100 contending clients.
 *
 * Three rows per level of concurrency, all echoing 1 KB through the same agent process:
 * - raw: `nc.request()` of the NATS client (defaults) on the same connection, no protocol at all;
 * - transport: NatsTransport.request on that connection, no protocol (its own reply inbox
 *   mux, which skips the client's per-request Error objects: see natsReplyMux.ts);
 * - remote: a full delegation. The task envelope is JSON-encoded with its version and
 *   idempotency key, sent to the agent's NATS micro-service endpoint (queue group `q`), decoded
 *   and zod-validated there, deduplicated by key, run, and its reply encoded, then decoded and
 *   validated by the client. Each task carries an AttemptCancellation as the runtime's tasks
 *   do, which the request listens to.
 * The remote row's ratio is against raw (the target); its note gives it against the
 * transport row, which is the cost of the protocol alone.
 *
 * Run through `npm run bench` (it compiles the library to bench/.lib first); starts a private
 * nats-server, or uses $NATS_URL.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { quantileSorted } from 'simple-statistics';
import type { AgentTask } from '../src/actors/agent.js';
import type { NatsTransport as NatsTransportType } from '../src/transport/NatsTransport.js';
import { startNatsServer } from '../test/integration/natsServer.js';
import { lib, nats } from './lib.js';
import { against, type Row } from './measure.js';

const { ConflictResolver, AttemptCancellation, withCancellation } = lib;
const { serveConflictResolver, RemoteConflictResolver, remoteAgent, NatsTransport } = nats;

export type { Row };

const PAYLOAD = 'x'.repeat(1024);

const round = (x: number) => Math.round(x * 1000) / 1000;

function toRow(name: string, latencies: number[], windowMs: number): Row {
  latencies.sort((a, b) => a - b);
  return {
    name,
    opsPerSec: Math.round((latencies.length / windowMs) * 1000),
    p50Ms: round(quantileSorted(latencies, 0.5)),
    p99Ms: round(quantileSorted(latencies, 0.99)),
  };
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
  return toRow(name, latencies, performance.now() - started);
}

/**
 * Measures each of `sides` with `inFlight` concurrent loops, in alternating rounds of `roundMs`
 * (after one unrecorded round of each) until each has about `durationMs` of window. Within a
 * round only completions after its first `settleMs` count (100 loops starting at once need a few
 * round trips to settle into a pipeline); the ops still in flight when it ends finish unrecorded
 * before the next round starts. Load from other processes on a shared machine drifts over
 * seconds; alternating puts every row under the same drift, so their ratios are far steadier
 * than measuring one for 3 s and then the next.
 */
async function measureRounds(
  sides: readonly { name: string; op: (i: number) => Promise<unknown> }[],
  inFlight: number,
  durationMs: number,
  roundMs = 1000,
  settleMs = 100,
): Promise<Row[]> {
  const state = sides.map(() => ({ latencies: [] as number[], windowMs: 0 }));
  let n = 0;
  const runRound = async (i: number, record: boolean) => {
    const { op } = sides[i]!;
    const { latencies } = state[i]!;
    const from = performance.now() + settleMs;
    const until = from - settleMs + roundMs;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < until) {
          const t0 = performance.now();
          await op(n++);
          const t1 = performance.now();
          if (record && t1 >= from && t1 <= until) latencies.push(t1 - t0);
        }
      }),
    );
    if (record) state[i]!.windowMs += until - from;
  };
  for (let i = 0; i < sides.length; i++) await runRound(i, false);
  const rounds = Math.max(1, Math.round(durationMs / (roundMs - settleMs)));
  for (let r = 0; r < rounds; r++) for (let i = 0; i < sides.length; i++) await runRound(i, true);
  return sides.map((side, i) => toRow(side.name, state[i]!.latencies, state[i]!.windowMs));
}

/** Runs the remote benchmarks (≈ 30 s) and returns their rows. */
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
    const task = (i: number): AgentTask =>
      withCancellation(
        {
          runId: 'bench',
          pattern: 'bench',
          step: `s${i}`,
          capability: 'echo',
          attempt: 1,
          idempotencyKey: `bench/${i}/${Math.random()}`,
          input: { params: PAYLOAD, runInput: null, results: {} },
          context: { domain: 'bench', agentType: 'bench', priority: 1, attributes: {} },
        },
        new AttemptCancellation(),
      );
    await measure('warmup', 10, 500, () => nc.request('bench.raw', raw, { timeout: 10_000 }));
    await measure('warmup', 10, 500, (i) => agent.execute(task(i)));
    const rows: Row[] = [];
    for (const inFlight of [1, 100]) {
      const [rawRow, transportRow, remoteRow] = (await measureRounds(
        [
          {
            name: `raw request/reply 1KB, ${inFlight} in flight`,
            op: () => nc.request('bench.raw', raw, { timeout: 10_000 }),
          },
          {
            name: `NatsTransport request/reply 1KB, ${inFlight} in flight`,
            op: () => transport.request('bench.raw', raw, { timeoutMs: 10_000 }),
          },
          { name: `remote delegation 1KB, ${inFlight} in flight`, op: (i) => agent.execute(task(i)) },
        ],
        inFlight,
        durationMs,
      )) as [Row, Row, Row];
      const protocolOnly = Math.round((remoteRow.opsPerSec / transportRow.opsPerSec) * 100) / 100;
      rows.push(rawRow, against(transportRow, rawRow), {
        ...against(remoteRow, rawRow),
        note: `${protocolOnly}× of NatsTransport request/reply`,
      });
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
