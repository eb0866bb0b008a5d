import Table from 'cli-table3';
import pc from 'picocolors';
import { formatMs } from '../../tracing/gantt.js';
import type { RunTimeline, StepTiming } from '../../tracing/timeline.js';

/**
 * A run's timeline for the terminal: a Gantt row per step (`█` agent call, `▓` failed call,
 * `░` waiting, `▒` compensation; `*` marks the critical path), then tables of steps and agents,
 * where the time went, and the retries.
 * @param width - columns of the chart part (default 60)
 */
export function renderTimeline(run: RunTimeline, width = 60): string {
  const color = pc.isColorSupported;
  const lastEnd = Math.max(run.endedAt, ...run.steps.flatMap((s) => s.compensations.map((c) => c.endedAt)));
  const total = Math.max(lastEnd - run.startedAt, 1);
  const col = (at: number) => Math.min(width - 1, Math.floor(((at - run.startedAt) / total) * width));
  const critical = new Set(run.criticalPath.map((s) => s.spanId));
  const nameW = Math.min(24, Math.max(4, ...run.steps.map((s) => s.name.length)));
  const lines = [
    `${pc.bold(run.name)} ${run.status} in ${formatMs(run.durationMs)} (run ${run.runId})`,
    `${' '.repeat(nameW + 2)}0${' '.repeat(Math.max(1, width - 1 - formatMs(total).length))}${formatMs(total)}`,
  ];
  for (const s of run.steps) {
    const bar = stepBar(s, width, col);
    const mark = critical.has(s.spanId) ? '*' : ' ';
    lines.push(`${mark} ${s.name.slice(0, nameW).padEnd(nameW)}│${bar}│ ${formatMs(s.durationMs)}`);
  }
  lines.push(`  ${''.padEnd(nameW)} █ call  ▓ failed call  ░ waiting  ▒ compensation  * critical path`);
  const style = { compact: true, head: color ? ['bold'] : [], border: color ? ['grey'] : [] };
  const steps = new Table({
    head: ['Step', 'Status', 'Agent', 'Attempts', 'Duration', 'Running', 'Waiting', 'Critical'],
    style,
  });
  for (const s of run.steps) {
    steps.push([
      s.name,
      s.status,
      s.agent ?? '—',
      String(s.attempts),
      formatMs(s.durationMs),
      formatMs(s.runMs),
      formatMs(s.waitMs),
      critical.has(s.spanId) ? 'yes' : '',
    ]);
  }
  const agents = new Table({
    head: ['Agent', 'Calls', 'Failures', 'Busy', 'Utilisation', 'Peak concurrency', 'Mean call'],
    style,
  });
  for (const a of run.agents) {
    agents.push([
      a.agent,
      String(a.calls),
      String(a.failures),
      formatMs(a.busyMs),
      `${Math.round(a.utilisation * 100)}%`,
      String(a.peakConcurrency),
      formatMs(a.meanCallMs),
    ]);
  }
  const t = run.time;
  const went = [
    `agent calls ${formatMs(t.calls)}`,
    `failed calls ${formatMs(t.failedCalls)}`,
    `queue ${formatMs(t.queue)}`,
    `locks ${formatMs(t.locks)}`,
    `backoff ${formatMs(t.backoff)}`,
    `compensation ${formatMs(t.compensation)}`,
  ].join(' · ');
  const path = run.criticalPath.map((s) => s.name).join(' → ');
  const out = [
    ...lines,
    '',
    steps.toString(),
    agents.toString(),
    `critical path: ${path || '—'} (${formatMs(run.criticalPathMs)} of ${formatMs(run.durationMs)})`,
    `where the time went (summed over steps): ${went}`,
  ];
  if (run.retries.length) {
    out.push(
      `retries: ${run.retries
        .map((r) => `${r.step} attempt ${r.attempt} at +${formatMs(r.at - run.startedAt)} (${r.errorType})`)
        .join('; ')}`,
    );
  }
  return out.join('\n');
}

function stepBar(s: StepTiming, width: number, col: (at: number) => number): string {
  const cells = Array.from({ length: width }, () => ' ');
  const fill = (from: number, to: number, ch: string) => {
    for (let i = col(from); i <= Math.max(col(from), col(to) - (to > from ? 1 : 0)); i++) cells[i] = ch;
  };
  fill(s.startedAt, s.endedAt, '░');
  for (const c of s.calls) fill(c.startedAt, c.endedAt, c.ok ? '█' : '▓');
  for (const c of s.compensations) fill(c.startedAt, c.endedAt, '▒');
  return cells.join('');
}
