import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Host usage as fractions 0..1, each measured over the interval since the source's previous
 * reading (the first reading covers the time since the source was created).
 */
export interface ResourceUsage {
  /** Busy share of all CPUs: (user + nice + sys + irq) / total of `os.cpus()` times. */
  readonly cpu: number;
  /** Memory in use: 1 − `os.freemem()` / `os.totalmem()` (Linux: MemAvailable). */
  readonly memory: number;
  /** Busiest block device's share of time doing I/O (`/proc/diskstats` io_ticks); 0 off Linux. */
  readonly diskIo: number;
  /**
   * Busiest interface's bytes (rx + tx) against its link speed (`/proc/net/dev`,
   * `/sys/class/net/<if>/speed`); 0 off Linux or when no interface reports a speed.
   */
  readonly network: number;
}

/** Where a ResourceMonitor reads its figures (inject one in tests). */
export interface ResourceSource {
  /** Host usage since the previous call, 0..1 each. */
  usage(): ResourceUsage;
  /** Resident set size of this process, bytes. */
  processRssBytes(): number;
  /**
   * CPU time consumed so far, ms, cumulative: this process (user + system) plus its reaped
   * children (Linux `/proc/self/stat` cutime + cstime, so command agents count once they exit;
   * counted in 10 ms ticks, and read at most once per tick).
   */
  cpuTimeMs(): number;
}

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const b = times.user + times.nice + times.sys + times.irq;
    busy += b;
    total += b + times.idle;
  }
  return { busy, total };
}

/** Whole block devices (`/sys/block`), without loop, ram and device-mapper ones; empty off Linux. */
function wholeDisks(): ReadonlySet<string> {
  try {
    return new Set(readdirSync('/sys/block').filter((n) => !/^(loop|ram|dm-|zram)/.test(n)));
  } catch {
    return new Set();
  }
}

/** io_ticks (ms spent doing I/O) of each whole disk, by name. */
function diskTicks(disks: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  if (disks.size === 0) return out;
  for (const line of (readText('/proc/diskstats') ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    const name = f[2];
    if (name && disks.has(name)) out.set(name, Number(f[12]));
  }
  return out;
}

/** rx + tx bytes of each interface but loopback, by name. */
function netBytes(): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readText('/proc/net/dev') ?? '').split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!name || rest === undefined || name.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/);
    out.set(name.trim(), Number(f[0]) + Number(f[8]));
  }
  return out;
}

/** Link speed, bytes/ms, of an interface; undefined when it reports none. */
function linkBytesPerMs(name: string): number | undefined {
  const mbps = Number(readText(`/sys/class/net/${name}/speed`)?.trim());
  return mbps > 0 ? (mbps * 1_000_000) / 8 / 1000 : undefined;
}

/** Largest delta of `now` over `before` per key, divided by `scale(key)` (skipped when undefined). */
function busiest(
  before: Map<string, number>,
  now: Map<string, number>,
  scale: (key: string) => number | undefined,
): number {
  let max = 0;
  for (const [k, v] of now) {
    const prev = before.get(k);
    const s = scale(k);
    if (prev === undefined || s === undefined || s <= 0) continue;
    max = Math.max(max, (v - prev) / s);
  }
  return clamp01(max);
}

/** Reaped children's CPU time is counted in 10 ms ticks: one reading serves this long, ms. */
const CHILD_CPU_READING_MS = 10;
let childCpu: { at: number; ms: number } | undefined;

/** CPU time of this process's reaped children, ms (read at most once per tick). */
function childCpuMs(): number {
  const now = performance.now();
  if (!childCpu || now - childCpu.at >= CHILD_CPU_READING_MS) childCpu = { at: now, ms: readChildCpuMs() };
  return childCpu.ms;
}

function readChildCpuMs(): number {
  const stat = readText('/proc/self/stat');
  if (!stat) return 0;
  // Fields after the parenthesised command: state is field 3; cutime, cstime are 16 and 17.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[13]) + Number(f[14]);
  return Number.isFinite(ticks) ? ticks * 10 : 0; // USER_HZ is 100 on Linux: 10 ms a tick
}

/** The host's figures from `os`, `process` and (on Linux) `/proc` and `/sys`. */
export function systemResourceSource(): ResourceSource {
  const wholes = wholeDisks();
  let cpu = cpuTimes();
  let disks = diskTicks(wholes);
  let nets = netBytes();
  let at = Date.now();
  return {
    usage() {
      const now = Date.now();
      const elapsed = Math.max(1, now - at);
      const c = cpuTimes();
      const d = diskTicks(wholes);
      const n = netBytes();
      const usage: ResourceUsage = {
        cpu: c.total > cpu.total ? clamp01((c.busy - cpu.busy) / (c.total - cpu.total)) : 0,
        memory: clamp01(1 - os.freemem() / os.totalmem()),
        diskIo: busiest(disks, d, () => elapsed),
        network: busiest(nets, n, (name) => {
          const rate = linkBytesPerMs(name);
          return rate === undefined ? undefined : rate * elapsed;
        }),
      };
      cpu = c;
      disks = d;
      nets = n;
      at = now;
      return usage;
    },
    processRssBytes: () => process.memoryUsage.rss(),
    cpuTimeMs() {
      const own = process.cpuUsage();
      return (own.user + own.system) / 1000 + childCpuMs();
    },
  };
}
