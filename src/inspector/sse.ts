/**
 * Server-sent events framing (the `text/event-stream` format of the WHATWG HTML standard,
 * section 9.2 "Server-sent events"): fields `id`, `event`, `data`, one per line, a blank line
 * ends the message. Pure.
 */

/** One message: `data` is sent as is, one `data:` line per line of it. */
export interface SseMessage {
  /** The id the browser echoes in `Last-Event-ID` when it reconnects. */
  readonly id?: number | string | undefined;
  /** The event name (`addEventListener(name)`); omitted: `message`. */
  readonly event?: string | undefined;
  readonly data: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * Frames one message. A `data` with line breaks becomes several `data:` lines (the browser
 * joins them with `\n`); `id` and `event` may not hold line breaks.
 *
 * @throws RangeError when `id` or `event` holds a line break (it would end the field early)
 * @example
 * sseFrame({ id: 7, event: 'run', data: '{"type":"run.started"}' });
 * // 'id: 7\nevent: run\ndata: {"type":"run.started"}\n\n'
 */
export function sseFrame(message: SseMessage): string {
  const lines: string[] = [];
  if (message.id !== undefined) lines.push(`id: ${field('id', String(message.id))}`);
  if (message.event !== undefined) lines.push(`event: ${field('event', message.event)}`);
  for (const line of message.data.split(LINE_BREAK)) lines.push(`data: ${line}`);
  return `${lines.join('\n')}\n\n`;
}

/** A comment line (ignored by the browser): keeps idle connections open through proxies. */
export function sseComment(text: string): string {
  return `: ${text.replace(/\r\n|\r|\n/g, ' ')}\n\n`;
}

function field(name: string, value: string): string {
  if (LINE_BREAK.test(value))
    throw new RangeError(`SSE ${name} may not contain a line break: ${JSON.stringify(value)}`);
  return value;
}

/**
 * The sequence number a reconnecting browser last saw (its `Last-Event-ID` header), or 0
 * when absent or not a non-negative integer (then everything is replayed).
 */
export function lastEventId(header: string | string[] | undefined): number {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return 0;
  return Number(raw.trim());
}
