import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatTraceparent,
  parseTraceparent,
  remoteSpanContext,
  traceContextFromHeaders,
  traceContextSchema,
} from '../../../src/tracing/traceContext.js';

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => !/^0+$/.test(s));

describe('W3C trace context', () => {
  it('formats and parses traceparent as inverses', () => {
    fc.assert(
      fc.property(hex(32), hex(16), fc.integer({ min: 0, max: 255 }), (traceId, spanId, flags) => {
        expect(parseTraceparent(formatTraceparent(traceId, spanId, flags))).toEqual({
          traceId,
          spanId,
          flags,
        });
      }),
    );
  });

  it('rejects other versions, wrong lengths, upper case and all-zero ids', () => {
    const ok = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(parseTraceparent(ok)?.spanId).toBe('00f067aa0ba902b7');
    for (const bad of [
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`,
      '',
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
    expect(traceContextSchema.safeParse({ traceparent: 'nope' }).error?.issues[0]?.path).toEqual([
      'traceparent',
    ]);
  });

  it('reads headers case-insensitively and ignores an invalid traceparent', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(traceContextFromHeaders({ TraceParent: tp, TRACESTATE: 'k=v' })).toEqual({
      traceparent: tp,
      tracestate: 'k=v',
    });
    expect(traceContextFromHeaders({ traceparent: 'garbage', tracestate: 'k=v' })).toBeUndefined();
    expect(traceContextFromHeaders(undefined)).toBeUndefined();
    expect(remoteSpanContext({ traceparent: tp })).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
  });
});
