import { describe, expect, it } from 'vitest';
import { parseDurationOption } from '../../src/cli/input.js';
import { workflowSchema } from '../../src/cli/workflow/schema.js';
import { MAX_TIMER_MS, durationMs, durationSeconds, positiveDurationMs } from '../../src/core/duration.js';
import { retrySchema } from '../../src/core/spec.js';
import { CircuitBreaker } from '../../src/runtime/CircuitBreaker.js';
import { runOptionsSchema } from '../../src/runtime/executorOptions.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/SequentialDelegationPattern.js';
import { natsTransportOptionsSchema } from '../../src/transport/natsOptions.js';

/** Node fires a timer of more than 2^31-1 ms after 1 ms: every duration is bounded by it. */
const TOO_LONG = /must be at most 2147483647 ms/;

describe('duration schema', () => {
  it('accepts whole ms from 0 (or 1) to 2^31-1 and names the bound above it', () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    expect(durationMs.parse(0)).toBe(0);
    expect(positiveDurationMs.parse(MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
    expect(positiveDurationMs.safeParse(0).error?.issues[0]?.message).toBe('must be at least 1 ms');
    expect(durationMs.safeParse(1.5).error?.issues[0]?.message).toBe('expected a whole number of ms');
    expect(durationMs.safeParse(2 ** 31).error?.issues[0]?.message).toMatch(TOO_LONG);
    expect(durationSeconds.parse(MAX_TIMER_MS / 1000)).toBe(MAX_TIMER_MS / 1000);
    expect(durationSeconds.safeParse(MAX_TIMER_MS / 1000 + 0.001).error?.issues[0]?.message).toMatch(
      /must be at most 2147483.647 s/,
    );
  });

  it('bounds the durations of run options, breakers, backoff, patterns and NATS', () => {
    expect(runOptionsSchema.safeParse({ timeoutMs: 99_999_999_999 }).error?.issues[0]?.message).toMatch(
      TOO_LONG,
    );
    expect(() => new CircuitBreaker('a', { recoveryTimeoutMs: 2 ** 31 })).toThrow(TOO_LONG);
    expect(() => new CircuitBreaker('a', { windowMs: 2 ** 31 })).toThrow(TOO_LONG);
    expect(retrySchema.safeParse({ backoff: { maxDelayMs: 2 ** 31 } }).error?.issues[0]?.message).toMatch(
      TOO_LONG,
    );
    expect(
      () => new SequentialDelegationPattern({ name: 'p', steps: [{ name: 'a', timeoutMs: 2 ** 31 }] }),
    ).toThrow(TOO_LONG);
    expect(() => new SequentialDelegationPattern({ name: 'p', steps: ['a'], timeoutSeconds: 3e6 })).toThrow(
      /must be at most 2147483.647 s/,
    );
    expect(
      natsTransportOptionsSchema.safeParse({ servers: 'nats://x:1', pingIntervalMs: 2 ** 31 }).error
        ?.issues[0]?.message,
    ).toMatch(TOO_LONG);
  });

  it('bounds the durations of a workflow file, naming the field', () => {
    const result = workflowSchema.safeParse({
      version: 1,
      name: 'w',
      agents: {
        a: {
          kind: 'command',
          capabilities: ['x'],
          command: ['true'],
          timeoutMs: 99_999_999_999,
          breaker: { recoveryTimeoutMs: 2 ** 31 },
        },
      },
      patterns: { p: { type: 'sequential', steps: ['x'] } },
      run: { pattern: 'p', timeoutMs: 2 ** 31 },
    });
    const issues = result.error?.issues.map((i) => [i.path.join('.'), i.message]) ?? [];
    expect(issues).toEqual(
      expect.arrayContaining([
        ['agents.a.timeoutMs', expect.stringMatching(TOO_LONG)],
        ['agents.a.breaker.recoveryTimeoutMs', expect.stringMatching(TOO_LONG)],
        ['run.timeoutMs', expect.stringMatching(TOO_LONG)],
      ]),
    );
  });

  it('parses --timeout with the same bound and a message naming the option', () => {
    expect(parseDurationOption('--timeout', '5000')).toBe(5000);
    expect(() => parseDurationOption('--timeout', '99999999999')).toThrow(
      /^--timeout: must be at most 2147483647 ms .*, got "99999999999"$/,
    );
    expect(() => parseDurationOption('--timeout', 'soon')).toThrow(
      '--timeout: expected a whole number of ms, got "soon"',
    );
    expect(() => parseDurationOption('--timeout', '0')).toThrow('--timeout: must be at least 1 ms, got "0"');
  });
});
