/**
 * `npm run bench`: every benchmark, one table. Ratios compare with a baseline measured in
 * the same run (raw XState, raw NATS request/reply), since these machines are shared and noisy.
 * The remote rows need nats-server (NATS_URL, or the binary on PATH or at /usr/sbin/nats-server);
 * `--core` runs only the in-process rows.
 */
import Table from 'cli-table3';
import { runCoreBench } from './core.bench.js';
import type { Row } from './measure.js';

const durationMs = Number(process.env['BENCH_MS'] ?? 3000);
const rows: Row[] = await runCoreBench(durationMs);
if (!process.argv.includes('--core')) {
  const { runRemoteBench } = await import('./remote.bench.js');
  rows.push(...(await runRemoteBench()));
}
const table = new Table({ head: ['benchmark', 'ops/s', 'p50 ms', 'p99 ms', 'vs baseline', 'note'] });
for (const r of rows) {
  table.push([
    r.name,
    r.opsPerSec ? r.opsPerSec.toLocaleString('en') : '',
    r.opsPerSec ? r.p50Ms : '',
    r.opsPerSec ? r.p99Ms : '',
    r.ratio === undefined ? '' : `${r.ratio}×`,
    r.note ?? '',
  ]);
}
console.log(table.toString());
console.log(
  `node ${process.version}, ${(await import('node:os')).cpus().length} cores; ${durationMs} ms per measurement`,
);
process.exit(0);
