import { systemClock, type Clock } from '../../core/clock.js';
import { systemResourceSource, type ResourceSource, type ResourceUsage } from './systemSource.js';

export type { ResourceSource, ResourceUsage };

/** Options of {@link ResourceMonitor}. */
export interface ResourceMonitorOptions {
  /** Where figures come from (default: the host, {@link systemResourceSource}). */
  readonly source?: ResourceSource;
  /** Time for the sampling timer and the usage cache (default: the wall clock). */
  readonly clock?: Clock;
  /**
   * How long one host reading serves `getCurrentUsage`, and how often a resource context
   * samples memory, ms (default 100). CPU is a share over this interval at the least.
   */
  readonly sampleIntervalMs?: number;
}

/** What ran inside a {@link ResourceContext}, measured when it ended. */
export interface ResourceFigures {
  /** Wall time, ms (the monitor's clock). */
  readonly wallMs: number;
  /** CPU time of this process and its reaped children while the context was open, ms. */
  readonly cpuMs: number;
  /** Highest resident set size of this process sampled while open, bytes. */
  readonly peakRssBytes: number;
  /** Highest host memory in use sampled while open, 0..1. */
  readonly peakMemory: number;
}

/** An open measurement: samples memory every `sampleIntervalMs` until {@link end}. */
export interface ResourceContext {
  /** Peak so far of the host memory in use, 0..1. */
  readonly peakMemory: number;
  /** Peak so far of this process's resident set size, bytes. */
  readonly peakRssBytes: number;
  /** Stops sampling and returns the figures (idempotent: later calls return the same). */
  end(): ResourceFigures;
}

/**
 * Host and process resource figures (the reference's ResourceMonitor): current usage as
 * 0..1 fractions, a headroom test against thresholds, and contexts that measure what ran
 * inside them. Figures are host- and process-wide: runs that overlap share them.
 *
 * @example
 * const monitor = new ResourceMonitor();
 * if (monitor.isResourceAvailable(0.8, 0.8)) start();
 * const ctx = monitor.resourceContext(); await work(); const { peakRssBytes } = ctx.end();
 */
export class ResourceMonitor {
  private readonly source: ResourceSource;
  private readonly clock: Clock;
  readonly sampleIntervalMs: number;
  private cached: { at: number; usage: ResourceUsage } | undefined;

  constructor(options: ResourceMonitorOptions = {}) {
    this.source = options.source ?? systemResourceSource();
    this.clock = options.clock ?? systemClock;
    this.sampleIntervalMs = options.sampleIntervalMs ?? 100;
  }

  /** Host usage, 0..1 each; one reading serves calls within `sampleIntervalMs`. */
  getCurrentUsage(): ResourceUsage {
    const now = this.clock.now();
    if (!this.cached || now - this.cached.at >= this.sampleIntervalMs) {
      this.cached = { at: now, usage: this.source.usage() };
    }
    return this.cached.usage;
  }

  /** True when host CPU and memory in use are at or below the thresholds (0..1 each). */
  isResourceAvailable(cpuThreshold = 0.8, memoryThreshold = 0.8): boolean {
    const u = this.getCurrentUsage();
    return u.cpu <= cpuThreshold && u.memory <= memoryThreshold;
  }

  /** Resident set size of this process now, bytes. */
  processRssBytes(): number {
    return this.source.processRssBytes();
  }

  /** Open contexts' peaks, updated by one shared sampling timer while any is open. */
  private readonly open = new Set<{ rss: number; memory: number }>();
  private timer: unknown;
  private lastRss: { at: number; bytes: number } | undefined;

  /** This process's RSS, bytes, read at most once per sample interval. */
  private sampledRss(): number {
    const now = this.clock.now();
    if (!this.lastRss || now - this.lastRss.at >= this.sampleIntervalMs) {
      this.lastRss = { at: now, bytes: this.source.processRssBytes() };
    }
    return this.lastRss.bytes;
  }

  /** This process's RSS now, bytes (also refreshes the shared reading). */
  private freshRss(): number {
    this.lastRss = { at: this.clock.now(), bytes: this.source.processRssBytes() };
    return this.lastRss.bytes;
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.open.size === 0) return;
    const rss = this.sampledRss();
    const memory = this.getCurrentUsage().memory;
    for (const peaks of this.open) {
      peaks.rss = Math.max(peaks.rss, rss);
      peaks.memory = Math.max(peaks.memory, memory);
    }
    this.schedule();
  };

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = this.clock.setTimeout(this.tick, this.sampleIntervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /**
   * Opens a measurement of what runs from now until its `end()`. Memory is sampled every
   * `sampleIntervalMs` by one timer shared by all open contexts (none runs while none is open).
   */
  resourceContext(): ResourceContext {
    const { clock, source } = this;
    const startedAt = clock.now();
    const cpuAtStart = source.cpuTimeMs();
    const peaks = { rss: this.sampledRss(), memory: this.getCurrentUsage().memory };
    this.open.add(peaks);
    this.schedule();
    let figures: ResourceFigures | undefined;
    return {
      get peakMemory() {
        return peaks.memory;
      },
      get peakRssBytes() {
        return peaks.rss;
      },
      end: () => {
        if (figures) return figures;
        this.open.delete(peaks);
        if (this.open.size === 0 && this.timer !== undefined) {
          clock.clearTimeout(this.timer);
          this.timer = undefined;
        }
        figures = {
          wallMs: clock.now() - startedAt,
          cpuMs: Math.max(0, source.cpuTimeMs() - cpuAtStart),
          peakRssBytes: Math.max(peaks.rss, this.freshRss()),
          peakMemory: Math.max(peaks.memory, this.getCurrentUsage().memory),
        };
        return figures;
      },
    };
  }
}
