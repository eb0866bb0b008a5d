import pc from 'picocolors';

/** `1.23 s`, `850 ms`, `2 m 03 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} m ${String(s).padStart(2, '0')} s`;
}

const ICONS: Record<string, string> = {
  pending: '○',
  running: '◐',
  waiting: '⏸',
  retrying: '↻',
  completed: '✔',
  succeeded: '✔',
  failed: '✖',
  timedOut: '✖',
  skipped: '⊘',
  cancelled: '⊘',
  compensating: '↺',
  compensated: '↺',
  rolledBack: '↺',
  compensationFailed: '‼',
};

/** A status word coloured by outcome (green done, red failed, yellow retrying/undone, cyan running). */
export function colorStatus(status: string, text: string = status): string {
  switch (status) {
    case 'completed':
    case 'succeeded':
      return pc.green(text);
    case 'failed':
    case 'timedOut':
    case 'compensationFailed':
      return pc.red(text);
    case 'retrying':
    case 'compensating':
    case 'compensated':
    case 'rolledBack':
      return pc.yellow(text);
    case 'running':
      return pc.cyan(text);
    default:
      return pc.dim(text);
  }
}

/** Icon and status word, coloured. */
export function statusLabel(status: string): string {
  return colorStatus(status, `${ICONS[status] ?? '·'} ${status}`);
}
