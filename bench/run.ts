/**
 * `npm run bench`: every benchmark, one table. Ratios compare with a baseline measured in
 * the same run (raw XState, raw NATS request/reply), since these machines are shared and noisy;
 * in-process rows also report ops per CPU-second, which other load disturbs far less.
 * The remote rows need nats-server (NATS_URL, or the binary on PATH or at /usr/sbin/nats-server);
 * `--core` runs only the in-process rows; `--scaling` only the scaling rows (bench/scaling.bench.ts),
 * which the other modes include unless `--no-scaling`.
 */
import { cpus, loadavg } from 'node:os';
import Table from 'cli-table3';
import { runCoreBench } from './core.bench.js';
import type { Row } from './measure.js';

const durationMs = Number(process.env['BENCH_MS'] ?? 3000);
const only = process.argv.includes('--scaling');
const rows: Row[] = only ? [] : await runCoreBench(durationMs);
if (!process.argv.includes('--no-scaling')) {
  const { runScalingBench } = await import('./scaling.bench.js');
  rows.push(...(await runScalingBench()));
}
if (!only && !process.argv.includes('--core')) {
  const { runRemoteBench } = await import('./remote.bench.js');
  rows.push(...(await runRemoteBench()));
}
const num = (n: number | undefined) => (n ? n.toLocaleString('en') : '');
const table = new Table({
  head: ['benchmark', 'ops/s', 'ops/CPU-s', 'p50 ms', 'p99 ms', 'vs baseline', 'note'],
});
for (const r of rows) {
  const timed = r.opsPerSec > 0;
  table.push([
    r.name,
    num(r.opsPerSec),
    num(r.opsPerCpuSec),
    timed ? r.p50Ms : '',
    timed ? r.p99Ms : '',
    r.ratio === undefined ? '' : `${r.ratio}×`,
    r.note ?? '',
  ]);
}
console.log(table.toString());
console.log(
  `node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1) ?? '?'}; ${durationMs} ms per measurement; ratios use ops/CPU-s where both rows have it`,
);
process.exit(0);
