import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../src/core/backoff.js';
import { backoffSchema, type Backoff } from '../../src/core/spec.js';

const base = (jitter: Backoff['jitter'], patch: Partial<Backoff> = {}): Backoff => ({
  initialDelayMs: 100,
  maxDelayMs: 1_000,
  multiplier: 2,
  jitter,
  ...patch,
});

/** A random source that returns the given values in turn and records how often it was called. */
function randomOf(...values: number[]): (() => number) & { calls: number } {
  const fn = Object.assign(() => values[fn.calls++ % values.length]!, { calls: 0 });
  return fn;
}

describe('backoffDelayMs', () => {
  it("jitter 'none' grows exponentially and never calls random", () => {
    const random = randomOf(0.5);
    expect([1, 2, 3, 4].map((a) => backoffDelayMs(base('none'), a, random))).toEqual([100, 200, 400, 800]);
    expect(random.calls).toBe(0);
  });

  it("jitter 'none' is capped at maxDelayMs", () => {
    expect(backoffDelayMs(base('none'), 5, randomOf(0))).toBe(1_000);
    expect(backoffDelayMs(base('none'), 30, randomOf(0))).toBe(1_000);
  });

  it('treats attempt 0 (and below) as the first attempt', () => {
    expect(backoffDelayMs(base('none'), 0, randomOf(0))).toBe(100);
    expect(backoffDelayMs(base('none'), -3, randomOf(0))).toBe(100);
  });

  it("jitter 'full' draws uniformly in [0, cap)", () => {
    expect(backoffDelayMs(base('full'), 3, randomOf(0))).toBe(0);
    expect(backoffDelayMs(base('full'), 3, randomOf(0.5))).toBe(200);
    expect(backoffDelayMs(base('full'), 3, randomOf(0.999))).toBe(399);
    expect(backoffDelayMs(base('full'), 10, randomOf(0.25))).toBe(250);
  });

  it("jitter 'equal' draws uniformly in [cap/2, cap)", () => {
    expect(backoffDelayMs(base('equal'), 3, randomOf(0))).toBe(200);
    expect(backoffDelayMs(base('equal'), 3, randomOf(0.5))).toBe(300);
    expect(backoffDelayMs(base('equal'), 3, randomOf(0.999))).toBe(399);
    expect(backoffDelayMs(base('equal'), 10, randomOf(0))).toBe(500);
  });

  it('calls random exactly once per jittered delay', () => {
    const random = randomOf(0.1, 0.9);
    expect(backoffDelayMs(base('full'), 1, random)).toBe(10);
    expect(backoffDelayMs(base('full'), 1, random)).toBe(90);
    expect(random.calls).toBe(2);
  });

  it('honours a multiplier of 1 (constant delay) and a zero initial delay', () => {
    expect(backoffDelayMs(base('none', { multiplier: 1 }), 7, randomOf(0))).toBe(100);
    expect(backoffDelayMs(base('full', { initialDelayMs: 0 }), 4, randomOf(0.9))).toBe(0);
  });

  it('uses the schema defaults (100 ms, x2, 30 s cap, full jitter)', () => {
    const defaults = backoffSchema.parse({});
    expect(defaults).toEqual({ initialDelayMs: 100, maxDelayMs: 30_000, multiplier: 2, jitter: 'full' });
    expect(backoffDelayMs(defaults, 2, randomOf(0.5))).toBe(100);
  });
});
