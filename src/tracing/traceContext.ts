import { z } from 'zod';
import type { TraceContext } from '../core/agent.js';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): `traceparent` is
 * `00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>`; all-zero ids are invalid.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A parsed `traceparent`. */
export interface ParsedTraceparent {
  readonly traceId: string;
  readonly spanId: string;
  /** Bit 0: sampled. */
  readonly flags: number;
}

/** Parses a `traceparent` header; undefined when it is not a valid version-00 value. */
export function parseTraceparent(value: string | undefined): ParsedTraceparent | undefined {
  const m = value === undefined ? null : TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, traceId = '', spanId = '', flags = '00'] = m;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

/** Formats a `traceparent` (sampled unless `flags` says otherwise). */
export function formatTraceparent(traceId: string, spanId: string, flags = 1): string {
  return `00-${traceId}-${spanId}-${flags.toString(16).padStart(2, '0')}`;
}

/** The zod schema of a {@link TraceContext} (a valid `traceparent`, an optional `tracestate`). */
export const traceContextSchema = z.object({
  traceparent: z.string().refine((v) => parseTraceparent(v) !== undefined, {
    message: 'traceparent must be W3C version 00: 00-<32 hex>-<16 hex>-<2 hex>, ids not all zero',
  }),
  tracestate: z.string().max(512).optional(),
});

/**
 * The trace context carried by headers (`traceparent`, `tracestate`; HTTP or NATS, names
 * compared case-insensitively); undefined when there is no valid `traceparent`.
 */
export function traceContextFromHeaders(
  headers: Readonly<Record<string, string | undefined>> | undefined,
): TraceContext | undefined {
  if (!headers) return undefined;
  let traceparent: string | undefined;
  let tracestate: string | undefined;
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (key === 'traceparent') traceparent = v;
    else if (key === 'tracestate') tracestate = v;
  }
  if (parseTraceparent(traceparent) === undefined || traceparent === undefined) return undefined;
  return tracestate ? { traceparent: traceparent.trim(), tracestate } : { traceparent: traceparent.trim() };
}

/** The headers that carry `context` (`traceparent`, and `tracestate` when set); `{}` for none. */
export function traceHeaders(context: TraceContext | undefined): Record<string, string> {
  if (!context) return {};
  return context.tracestate
    ? { traceparent: context.traceparent, tracestate: context.tracestate }
    : { traceparent: context.traceparent };
}

/**
 * The OpenTelemetry `SpanContext` of a received trace context (a remote parent), for
 * `trace.setSpanContext(ROOT_CONTEXT, remoteSpanContext(task.traceContext))` in an agent's handler;
 * undefined when there is none or it is invalid.
 */
export function remoteSpanContext(
  context: TraceContext | undefined,
): { traceId: string; spanId: string; traceFlags: number; isRemote: true } | undefined {
  const parsed = parseTraceparent(context?.traceparent);
  if (!parsed) return undefined;
  return { traceId: parsed.traceId, spanId: parsed.spanId, traceFlags: parsed.flags, isRemote: true };
}
