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

  /** Opens a measurement of what runs from now until its `end()`. */
  resourceContext(): ResourceContext {
    const { clock, source } = this;
    const startedAt = clock.now();
    const cpuAtStart = source.cpuTimeMs();
    let peakRssBytes = source.processRssBytes();
    let peakMemory = this.getCurrentUsage().memory;
    let figures: ResourceFigures | undefined;
    let timer: unknown;
    const sample = (): void => {
      peakRssBytes = Math.max(peakRssBytes, source.processRssBytes());
      peakMemory = Math.max(peakMemory, this.getCurrentUsage().memory);
    };
    const tick = (): void => {
      sample();
      schedule();
    };
    const schedule = (): void => {
      timer = clock.setTimeout(tick, this.sampleIntervalMs);
      (timer as { unref?: () => void } | undefined)?.unref?.();
    };
    schedule();
    return {
      get peakMemory() {
        return peakMemory;
      },
      get peakRssBytes() {
        return peakRssBytes;
      },
      end: () => {
        if (figures) return figures;
        clock.clearTimeout(timer);
        sample();
        figures = {
          wallMs: clock.now() - startedAt,
          cpuMs: Math.max(0, source.cpuTimeMs() - cpuAtStart),
          peakRssBytes,
          peakMemory,
        };
        return figures;
      },
    };
  }
}
