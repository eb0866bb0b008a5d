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

/**
 * Runs `op` repeatedly for `durationMs` from `inFlight` concurrent loops (after `warmupMs` of
 * unmeasured runs); reports ops/s and latency percentiles in ms.
 */
export async function measure(
  name: string,
  inFlight: number,
  durationMs: number,
  op: (i: number) => Promise<unknown>,
  warmupMs = Math.min(500, durationMs / 4),
): Promise<Row> {
  const loop = async (until: number, latencies?: number[]) => {
    let i = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < until) {
          const t0 = performance.now();
          await op(i++);
          latencies?.push(performance.now() - t0);
        }
      }),
    );
  };
  await loop(performance.now() + warmupMs);
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await loop(started + durationMs, latencies);
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  latencies.sort((a, b) => a - b);
  return {
    name,
    opsPerSec: Math.round((latencies.length / elapsed) * 1000),
    opsPerCpuSec: Math.round(latencies.length / cpuSeconds),
    p50Ms: round(quantileSorted(latencies, 0.5)),
    p99Ms: round(quantileSorted(latencies, 0.99)),
  };
}

/** Marks `row` as compared with `baseline`. */
export function against(row: Row, baseline: Row): Row {
  const cpu = row.opsPerCpuSec !== undefined && baseline.opsPerCpuSec !== undefined;
  const ratio = cpu ? row.opsPerCpuSec! / baseline.opsPerCpuSec! : row.opsPerSec / baseline.opsPerSec;
  return { ...row, baseline: baseline.name, ratio: round(ratio, 2) };
}
