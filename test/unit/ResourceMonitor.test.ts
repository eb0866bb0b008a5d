import { describe, expect, it } from 'vitest';
import { ResourceMonitor } from '../../src/runtime/resources/ResourceMonitor.js';
import { scriptedSource } from './resourceFixtures.js';
import { systemResourceSource } from '../../src/runtime/resources/systemSource.js';
import { simulatedClock } from '../../src/testing.js';

describe('ResourceMonitor', () => {
  it('reports the source usage, reading the host at most once per sample interval', () => {
    const clock = simulatedClock(0);
    const { state, source } = scriptedSource({ cpu: 0.5, memory: 0.25 });
    const m = new ResourceMonitor({ source, clock, sampleIntervalMs: 100 });
    expect(m.getCurrentUsage()).toEqual({ cpu: 0.5, memory: 0.25, diskIo: 0, network: 0 });
    state.usage = { ...state.usage, cpu: 0.9 };
    expect(m.getCurrentUsage().cpu).toBe(0.5);
    clock.increment(100);
    expect(m.getCurrentUsage().cpu).toBe(0.9);
    expect(state.readings).toBe(2);
  });

  it('isResourceAvailable compares CPU and memory with their thresholds', () => {
    const clock = simulatedClock(0);
    const { state, source } = scriptedSource({ cpu: 0.7, memory: 0.6 });
    const m = new ResourceMonitor({ source, clock, sampleIntervalMs: 1 });
    expect(m.isResourceAvailable(0.8, 0.8)).toBe(true);
    expect(m.isResourceAvailable(0.6, 0.8)).toBe(false);
    expect(m.isResourceAvailable(0.8, 0.5)).toBe(false);
    state.usage = { ...state.usage, cpu: 0.95 };
    clock.increment(1);
    expect(m.isResourceAvailable()).toBe(false);
  });

  it('a resource context gives the peak RSS and memory sampled inside it, CPU time and wall time', () => {
    const clock = simulatedClock(1_000);
    const { state, source } = scriptedSource({ memory: 0.2 });
    const m = new ResourceMonitor({ source, clock, sampleIntervalMs: 10 });
    state.cpuMs = 50;
    const ctx = m.resourceContext();
    state.rss = 900;
    state.usage = { ...state.usage, memory: 0.7 };
    clock.increment(10); // sampled: the peak is seen although it is gone by the end
    state.rss = 200;
    state.usage = { ...state.usage, memory: 0.3 };
    state.cpuMs = 80;
    clock.increment(15);
    expect(ctx.peakRssBytes).toBe(900);
    const figures = ctx.end();
    expect(figures).toEqual({ wallMs: 25, cpuMs: 30, peakRssBytes: 900, peakMemory: 0.7 });
    state.rss = 5_000;
    clock.increment(100);
    expect(ctx.end()).toBe(figures);
  });

  it('open contexts share one sampling timer, which stops when the last one ends', () => {
    const clock = simulatedClock(0);
    const { state, source } = scriptedSource();
    const m = new ResourceMonitor({ source, clock, sampleIntervalMs: 10 });
    const contexts = Array.from({ length: 50 }, () => m.resourceContext());
    expect(state.rssReads).toBe(1); // one reading serves every context opened within the interval
    for (let i = 0; i < 10; i++) clock.increment(10);
    expect(state.rssReads).toBe(11); // one per tick, not one per context
    state.rss = 700;
    for (const c of contexts) c.end();
    const reads = state.rssReads;
    for (let i = 0; i < 10; i++) clock.increment(10);
    expect(state.rssReads).toBe(reads);
    expect(contexts[0]!.end().peakRssBytes).toBe(700);
  });

  it('the host source gives fractions within 0..1 and positive process figures', () => {
    const source = systemResourceSource();
    const u = source.usage();
    for (const v of [u.cpu, u.memory, u.diskIo, u.network]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(u.memory).toBeGreaterThan(0);
    expect(source.processRssBytes()).toBeGreaterThan(1_000_000);
    expect(source.cpuTimeMs()).toBeGreaterThan(0);
  });
});
