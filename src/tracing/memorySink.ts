import type { TraceSink, TraceSpan } from './span.js';

/** A {@link TraceSink} that keeps every ended span, in the order they ended (tests, small runs). */
export interface MemorySink extends TraceSink {
  readonly spans: TraceSpan[];
  /** Forgets the spans kept so far. */
  clear(): void;
}

/** Keeps ended spans in memory. */
export function memorySink(): MemorySink {
  const spans: TraceSpan[] = [];
  return {
    spans,
    onEnd: (span) => {
      spans.push(span);
    },
    clear: () => {
      spans.length = 0;
    },
  };
}
