import { quantileSorted } from 'simple-statistics';

/** One line of the bench table. */
export interface Row {
  name: string;
  /** Operations per wall-clock second. */
  opsPerSec: number;
  /**
   * Operations per CPU-second of this process (user + system): far less sensitive than wall
   * time to other load on a shared machine; ratios use it when both rows have it.
   */
  opsPerCpuSec?: number;
  p50Ms: number;
  p99Ms: number;
  /** Name of the row this one is compared with (measured in the same run). */
  baseline?: string;
  /** opsPerCpuSec (else opsPerSec) / the baseline's. */
  ratio?: number;
  /** Free-form extra column (e.g. heap per run). */
  note?: string;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Marks `row` as compared with `baseline`. */
export function against(row: Row, baseline: Row): Row {
  const cpu = row.opsPerCpuSec !== undefined && baseline.opsPerCpuSec !== undefined;
  const ratio = cpu ? row.opsPerCpuSec! / baseline.opsPerCpuSec! : row.opsPerSec / baseline.opsPerSec;
  return { ...row, baseline: baseline.name, ratio: round(ratio, 2) };
}

/**
 * Measures `ours` against `baseline` in alternating rounds of `roundMs` (after a warm-up of
 * both) for about `durationMs` each, one op in flight. Load from other processes drifts over
 * seconds on a shared machine; alternating puts both rows under the same drift, so their ratio
 * (on ops per CPU-second) is far steadier than measuring one after the other.
 */
export async function measurePair(
  names: { baseline: string; ours: string },
  durationMs: number,
  baseline: () => Promise<unknown>,
  ours: () => Promise<unknown>,
  roundMs = 100,
): Promise<[Row, Row]> {
  const sides = [
    { name: names.baseline, op: baseline, latencies: [] as number[], cpuUs: 0, wallMs: 0 },
    { name: names.ours, op: ours, latencies: [] as number[], cpuUs: 0, wallMs: 0 },
  ];
  const runRound = async (side: (typeof sides)[number], record: boolean) => {
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const until = started + roundMs;
    while (performance.now() < until) {
      const t0 = performance.now();
      await side.op();
      if (record) side.latencies.push(performance.now() - t0);
    }
    if (!record) return;
    const cpu = process.cpuUsage(cpu0);
    side.cpuUs += cpu.user + cpu.system;
    side.wallMs += performance.now() - started;
  };
  for (let i = 0; i < Math.max(2, Math.round(Math.min(500, durationMs / 4) / roundMs)); i++) {
    for (const side of sides) await runRound(side, false);
  }
  for (let i = 0; i < Math.max(1, Math.round(durationMs / roundMs)); i++) {
    for (const side of sides) await runRound(side, true);
  }
  const rows = sides.map((side): Row => {
    side.latencies.sort((a, b) => a - b);
    const n = side.latencies.length;
    return {
      name: side.name,
      opsPerSec: Math.round((n / side.wallMs) * 1000),
      opsPerCpuSec: Math.round(n / (side.cpuUs / 1e6)),
      p50Ms: round(quantileSorted(side.latencies, 0.5)),
      p99Ms: round(quantileSorted(side.latencies, 0.99)),
    };
  }) as [Row, Row];
  return [rows[0], against(rows[1], rows[0])];
}
