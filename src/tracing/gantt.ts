import type { RunTimeline, StepTiming } from './timeline.js';

/** Colours of the Gantt chart (also its legend). */
const COLOUR = {
  wait: '#d9dde3',
  call: '#2f9e6b',
  failed: '#d64545',
  compensation: '#e8a33d',
  busy: '#4b7bd6',
  text: '#1f2328',
  grid: '#eef0f3',
} as const;

const LABEL_W = 160;
const CHART_W = 720;
const ROW_H = 22;
const BAR_H = 14;
const LANE_H = 30;

/** Escapes text for SVG/HTML. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A step of 1, 2 or 5 × 10^k ms giving about `count` ticks over `span` ms. */
function tickStep(span: number, count = 8): number {
  const raw = Math.max(span, 1) / count;
  const base = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * base).find((s) => s >= raw) ?? base * 10;
}

/** `ms` as `850 ms`, `1.2 s`, `3 min 5 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/**
 * A Gantt chart of one run as a standalone SVG document: a row per step (its span in grey,
 * agent calls green or red when they failed, compensations orange; critical-path steps in
 * bold), then a lane per agent with its calls in flight over time. Time runs left to right
 * from the run's start.
 */
export function ganttSvg(run: RunTimeline): string {
  const span = Math.max(run.durationMs, 1);
  const lastEnd = Math.max(run.endedAt, ...run.steps.flatMap((s) => s.compensations.map((c) => c.endedAt)));
  const total = Math.max(lastEnd - run.startedAt, span);
  const x = (at: number) => LABEL_W + ((at - run.startedAt) / total) * CHART_W;
  const top = 48;
  const stepsH = run.steps.length * ROW_H;
  const lanesTop = top + stepsH + 16;
  const height = lanesTop + run.agents.length * LANE_H + 40;
  const width = LABEL_W + CHART_W + 20;
  const critical = new Set(run.criticalPath.map((s) => s.spanId));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${escapeXml(`${run.name} ${run.status} in ${formatMs(run.durationMs)}`)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold" fill="${COLOUR.text}">${escapeXml(run.name)} — ${escapeXml(run.status)} in ${escapeXml(formatMs(run.durationMs))}</text>`,
  );
  const step = tickStep(total);
  for (let t = 0; t <= total; t += step) {
    const tx = x(run.startedAt + t);
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${top - 12}" x2="${tx.toFixed(1)}" y2="${lanesTop + run.agents.length * LANE_H}" stroke="${COLOUR.grid}"/>`,
      `<text x="${tx.toFixed(1)}" y="${top - 16}" text-anchor="middle" fill="#57606a" font-size="10">${escapeXml(formatMs(t))}</text>`,
    );
  }
  run.steps.forEach((s, i) => out.push(...stepRow(s, top + i * ROW_H, x, critical.has(s.spanId))));
  run.agents.forEach((agent, i) => {
    const y = lanesTop + i * LANE_H;
    out.push(
      `<text x="8" y="${y + LANE_H / 2 + 4}" fill="${COLOUR.text}">${escapeXml(agent.agent)} (${Math.round(agent.utilisation * 100)}%)</text>`,
    );
    const peak = Math.max(agent.peakConcurrency, 1);
    const points = agent.concurrency.map((p, j) => {
      const next = agent.concurrency[j + 1]?.at ?? p.at;
      return { from: p.at, to: next, active: p.active };
    });
    for (const p of points) {
      if (p.active === 0 || p.to <= p.from) continue;
      const h = ((LANE_H - 6) * p.active) / peak;
      out.push(
        `<rect x="${x(p.from).toFixed(1)}" y="${(y + LANE_H - 3 - h).toFixed(1)}" width="${Math.max(0.5, x(p.to) - x(p.from)).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOUR.busy}"><title>${p.active} in flight</title></rect>`,
      );
    }
  });
  const legendY = height - 14;
  const legend: [string, string][] = [
    ['waiting', COLOUR.wait],
    ['agent call', COLOUR.call],
    ['failed call', COLOUR.failed],
    ['compensation', COLOUR.compensation],
    ['calls in flight', COLOUR.busy],
  ];
  legend.forEach(([label, colour], i) => {
    const lx = LABEL_W + i * 130;
    out.push(
      `<rect x="${lx}" y="${legendY - 10}" width="12" height="12" fill="${colour}"/>`,
      `<text x="${lx + 16}" y="${legendY}" fill="${COLOUR.text}">${label}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

function stepRow(s: StepTiming, y: number, x: (at: number) => number, onCriticalPath: boolean): string[] {
  const by = y + (ROW_H - BAR_H) / 2;
  const rect = (from: number, to: number, fill: string, tip: string) =>
    `<rect x="${x(from).toFixed(1)}" y="${by}" width="${Math.max(1, x(to) - x(from)).toFixed(1)}" height="${BAR_H}" fill="${fill}"><title>${escapeXml(tip)}</title></rect>`;
  const row = [
    `<text x="8" y="${y + ROW_H / 2 + 4}" fill="${COLOUR.text}"${onCriticalPath ? ' font-weight="bold"' : ''}>${escapeXml(s.name)}</text>`,
    rect(
      s.startedAt,
      s.endedAt,
      COLOUR.wait,
      `${s.name}: ${s.status}, ${formatMs(s.durationMs)} (waiting ${formatMs(s.waitMs)})`,
    ),
  ];
  s.calls.forEach((c, i) =>
    row.push(
      rect(
        c.startedAt,
        c.endedAt,
        c.ok ? COLOUR.call : COLOUR.failed,
        `${s.name} attempt ${i + 1} on ${s.agent ?? '?'}: ${c.ok ? 'ok' : 'failed'}, ${formatMs(c.endedAt - c.startedAt)}`,
      ),
    ),
  );
  for (const c of s.compensations)
    row.push(
      rect(
        c.startedAt,
        c.endedAt,
        COLOUR.compensation,
        `${s.name} compensation, ${formatMs(c.endedAt - c.startedAt)}`,
      ),
    );
  if (onCriticalPath)
    row.push(
      `<rect x="${x(s.startedAt).toFixed(1)}" y="${by - 1}" width="${Math.max(1, x(s.endedAt) - x(s.startedAt)).toFixed(1)}" height="${BAR_H + 2}" fill="none" stroke="${COLOUR.text}" stroke-width="1"/>`,
    );
  return row;
}

/** A standalone HTML page: each run's Gantt chart, then its step, agent and retry tables. */
export function ganttHtml(runs: readonly RunTimeline[], title: string): string {
  const table = (head: string[], rows: (string | number)[][]) =>
    `<table><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows
      .map((r) => `<tr>${r.map((c) => `<td>${escapeXml(String(c))}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const sections = runs.map((run) => {
    const critical = new Set(run.criticalPath.map((s) => s.spanId));
    return [
      `<section><h2>${escapeXml(run.name)} <small>${escapeXml(run.runId)}</small></h2>`,
      ganttSvg(run),
      `<h3>Steps</h3>`,
      table(
        ['step', 'status', 'agent', 'attempts', 'duration', 'running', 'waiting', 'critical path'],
        run.steps.map((s) => [
          s.name,
          s.status,
          s.agent ?? '',
          s.attempts,
          formatMs(s.durationMs),
          formatMs(s.runMs),
          formatMs(s.waitMs),
          critical.has(s.spanId) ? 'yes' : '',
        ]),
      ),
      `<h3>Agents</h3>`,
      table(
        ['agent', 'calls', 'failures', 'busy', 'utilisation', 'peak concurrency', 'mean call'],
        run.agents.map((a) => [
          a.agent,
          a.calls,
          a.failures,
          formatMs(a.busyMs),
          `${Math.round(a.utilisation * 100)}%`,
          a.peakConcurrency,
          formatMs(a.meanCallMs),
        ]),
      ),
      run.retries.length
        ? `<h3>Retries</h3>${table(
            ['step', 'attempt', 'at', 'error'],
            run.retries.map((r) => [r.step, r.attempt, `+${formatMs(r.at - run.startedAt)}`, r.errorType]),
          )}`
        : '',
      '</section>',
    ].join('\n');
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#1f2328}table{border-collapse:collapse;margin:8px 0 16px}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;font-size:13px}th{background:#f6f8fa}small{color:#57606a;font-weight:normal}</style>
</head><body><h1>${escapeXml(title)}</h1>
${sections.join('\n')}
</body></html>
`;
}
