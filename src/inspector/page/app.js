// The inspector page: plain ES module, no build step. It folds the RunEvents streamed on
// /events (server-sent events) into runs, and draws the selected run: its diagram coloured by
// step state, the step table, breaker states and the event log. All text goes in through
// textContent; only the SVG the server drew (Graphviz, labels escaped) goes in as markup.

const TERMINAL = new Set(['completed', 'failed', 'skipped', 'cancelled']);
const UNDO = new Set(['compensating', 'compensated', 'compensationFailed']);
const MAX_LOG = 500;

/** @type {Map<string, any>} runs by id, in arrival order */
const runs = new Map();
/** Circuit breakers of the executor (breaker events have runId `*`), by agent. */
const breakers = new Map();
let selected = undefined;
let pinned = false; // the user chose a run: do not follow the newest
let palette = {};
let scheduled = false;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== undefined));
  return node;
};
const ms = (n) => (n === undefined ? '' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(2)} s`);

function runOf(event) {
  let run = runs.get(event.runId);
  if (run === undefined) {
    run = {
      runId: event.runId,
      pattern: event.pattern ?? '',
      startedAt: event.at,
      status: 'running',
      durationMs: undefined,
      steps: new Map(),
      log: [],
      diagram: undefined,
      outputs: undefined,
      hasOutputs: false,
    };
    runs.set(event.runId, run);
    if (!pinned) selected = event.runId;
  }
  return run;
}

function apply(event) {
  if (event.runId === '*') return applyShared(event);
  const run = runOf(event);
  run.log.push(event);
  if (run.log.length > MAX_LOG) run.log.shift();
  if (event.type === 'run.started') {
    run.pattern = event.pattern;
    run.startedAt = event.at;
  } else if (event.type === 'run.finished') {
    run.status = event.status;
    run.durationMs = event.durationMs;
    if (run.diagram?.source === 'trace') run.diagram = undefined; // redraw from the whole run
  } else if (event.type === 'step.status') {
    const key = JSON.stringify([...event.path, event.step]);
    const step = run.steps.get(key) ?? { key, path: event.path, name: event.step, attempts: 0 };
    step.status = event.status;
    step.agent = event.agent ?? step.agent;
    step.attempts = Math.max(step.attempts, event.attempt);
    if (event.status === 'running' && step.startAt === undefined) step.startAt = event.at;
    if (TERMINAL.has(event.status) && step.endAt === undefined) step.endAt = event.at;
    if (event.error) step.error = `${event.error.name}: ${event.error.message}`;
    run.steps.set(key, step);
  }
  schedule();
}

/** An executor-wide event (a breaker change): kept per agent, and logged in every running run. */
function applyShared(event) {
  if (event.type !== 'breaker.state') return;
  const b = breakers.get(event.agent) ?? { agent: event.agent, states: [event.from] };
  if (b.states[b.states.length - 1] !== event.from) b.states.push(event.from);
  b.states.push(event.to);
  breakers.set(event.agent, b);
  for (const run of runs.values()) if (run.status === 'running') run.log.push(event);
  schedule();
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    render();
  });
}

function render() {
  renderRuns();
  const run = selected === undefined ? undefined : runs.get(selected);
  $('run').hidden = run === undefined;
  $('no-runs').hidden = runs.size > 0;
  if (run === undefined) return;
  $('run-title').textContent = `${run.pattern} · ${run.runId}`;
  const status = $('run-status');
  status.replaceChildren(badge(run.status), ` ${run.durationMs === undefined ? '' : ms(run.durationMs)}`);
  status.dataset.status = run.status;
  renderDiagram(run);
  renderSteps(run);
  renderBreakers();
  renderLog(run);
}

function badge(status) {
  const s = palette[status];
  const span = el('span', { className: 'badge', textContent: status });
  if (s) Object.assign(span.style, { background: s.fill, borderColor: s.stroke, color: s.text });
  return span;
}

function renderRuns() {
  const list = $('runs');
  list.replaceChildren(
    ...[...runs.values()].reverse().map((run) =>
      el(
        'li',
        {
          dataset: { runId: run.runId, status: run.status },
          'aria-selected': String(run.runId === selected),
          onclick: () => {
            selected = run.runId;
            pinned = true;
            render();
          },
        },
        el('strong', { textContent: run.pattern || '(unknown pattern)' }),
        ' ',
        badge(run.status),
        el('small', { textContent: `${new Date(run.startedAt).toLocaleTimeString()} · ${run.runId}` }),
      ),
    ),
  );
}

async function renderDiagram(run) {
  const box = $('diagram');
  if (run.diagram === undefined) {
    run.diagram = 'loading';
    try {
      const res = await fetch(`/api/runs/${encodeURIComponent(run.runId)}/diagram`);
      const body = await res.json();
      if (!res.ok) throw new Error(body.error ?? res.statusText);
      run.diagram = body;
    } catch (error) {
      run.diagram = { source: 'error', svg: '', nodes: {}, error: String(error) };
    }
    if (selected === run.runId) render();
    return;
  }
  if (run.diagram === 'loading') return;
  if (box.dataset.runId !== run.runId || box.dataset.source !== run.diagram.source) {
    box.innerHTML = run.diagram.svg;
    box.dataset.runId = run.runId;
    box.dataset.source = run.diagram.source;
    $('diagram-source').textContent =
      run.diagram.source === 'pattern'
        ? '(the pattern, coloured by step state)'
        : run.diagram.source === 'trace'
          ? '(drawn from the run’s events)'
          : `(unavailable: ${run.diagram.error})`;
  }
  for (const g of box.querySelectorAll('g.node')) {
    const title = g.querySelector('title')?.textContent ?? '';
    const node = run.diagram.nodes[title];
    if (node === undefined) {
      if (run.diagram.source === 'pattern') paintEnd(g, title, run);
      continue;
    }
    const step = run.steps.get(node.key);
    let status = step?.status ?? 'pending';
    if (node.role === 'compensation') status = UNDO.has(status) ? status : 'pending';
    else if (UNDO.has(status)) status = 'completed';
    g.dataset.step = node.key;
    paint(g, status);
  }
}

/** Colours a node group by `status` (its shapes and text), once per change. */
function paint(g, status) {
  if (g.dataset.status === status) return;
  g.dataset.status = status;
  const s = palette[status];
  if (s === undefined) return;
  for (const shape of g.querySelectorAll('path, polygon, ellipse')) {
    if (shape.getAttribute('fill') !== 'none') shape.setAttribute('fill', s.fill); // a final state's outer ring stays a ring
    shape.setAttribute('stroke', s.stroke);
  }
  for (const text of g.querySelectorAll('text')) text.setAttribute('fill', s.text);
}

/** A pattern diagram's end states: the root's end the run reached in its colour, the others pending. */
function paintEnd(g, title, run) {
  const root = /^p:[^/]+\/end:(\w+)$/.exec(title);
  if (root !== null) {
    g.dataset.end = root[1];
    paint(g, outcomeOf(run.status) === root[1] ? root[1] : 'pending');
  } else if (/\/end:\w+$/.test(title)) paint(g, 'pending');
}

const outcomeOf = (status) => (status === 'timedOut' ? 'failed' : status);

function renderSteps(run) {
  const body = $('steps').tBodies[0];
  const rows = [];
  for (const step of run.steps.values()) {
    const duration =
      step.startAt === undefined
        ? ''
        : step.endAt === undefined
          ? `${ms(Date.now() - step.startAt)}…`
          : ms(step.endAt - step.startAt);
    const output = el('td', { className: 'output' });
    if (run.hasOutputs) {
      output.append(
        el('button', {
          textContent: step.showOutput ? 'hide' : 'show',
          onclick: () => toggleOutput(run, step),
        }),
      );
    } else output.textContent = run.status === 'running' ? 'when the run ends' : 'not recorded';
    rows.push(
      el(
        'tr',
        { dataset: { key: step.key, status: step.status } },
        el('td', { className: 'name', textContent: [...step.path.slice(1), step.name].join(' › ') }),
        el('td', { className: 'status' }, badge(step.status)),
        el('td', { className: 'agent', textContent: step.agent ?? '' }),
        el('td', { className: 'attempts', textContent: String(step.attempts) }),
        el('td', { className: 'duration', textContent: duration }),
        el('td', { className: 'error', textContent: step.error ?? '' }),
        output,
      ),
    );
    if (step.showOutput) {
      const value = run.outputs === undefined ? 'loading…' : run.outputs.get(step.key);
      const text = typeof value === 'string' ? value : (JSON.stringify(value, null, 2) ?? '(no output)');
      rows.push(
        el(
          'tr',
          { className: 'output-row' },
          el('td', { colSpan: 7 }, el('pre', { className: 'output', textContent: text })),
        ),
      );
    }
  }
  body.replaceChildren(...rows);
}

async function toggleOutput(run, step) {
  step.showOutput = !step.showOutput;
  render();
  if (!step.showOutput || run.outputs !== undefined) return;
  const res = await fetch(`/api/runs/${encodeURIComponent(run.runId)}/outputs`);
  const body = await res.json();
  run.outputs = new Map(res.ok ? body.outputs.map((o) => [o.key, o.output]) : []);
  if (!res.ok) for (const key of run.steps.keys()) run.outputs.set(key, body.error);
  render();
}

function renderBreakers() {
  const rows = [...breakers.values()].map((b) =>
    el(
      'tr',
      { dataset: { agent: b.agent } },
      el('td', { textContent: b.agent }),
      el('td', { className: 'state', textContent: b.states[b.states.length - 1] }),
      el('td', { textContent: b.states.join(' → ') }),
    ),
  );
  $('breakers').tBodies[0].replaceChildren(...rows);
  $('no-breakers').hidden = rows.length > 0;
}

function describe(e) {
  switch (e.type) {
    case 'run.started':
      return `run started: ${e.pattern} (${e.patternType})`;
    case 'run.finished':
      return `run ${e.status} in ${ms(e.durationMs)}`;
    case 'step.status':
      return `${[...e.path.slice(1), e.step].join(' › ')}: ${e.status}${e.agent ? ` on ${e.agent}` : ''} (attempt ${e.attempt})${e.error ? ` — ${e.error.message}` : ''}`;
    case 'phase.status':
      return `phase ${e.phase}: ${e.status}`;
    case 'breaker.state':
      return `breaker ${e.agent}: ${e.from} → ${e.to}`;
    default:
      return e.type;
  }
}

function renderLog(run) {
  const log = $('log');
  const follow = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.replaceChildren(
    ...run.log.map((e) =>
      el('li', { dataset: { type: e.type }, textContent: `+${ms(e.at - run.startedAt)}  ${describe(e)}` }),
    ),
  );
  if (follow) log.scrollTop = log.scrollHeight;
}

function legend() {
  $('legend').replaceChildren(...Object.keys(palette).map(badge));
}

async function start() {
  palette = await (await fetch('/api/palette')).json();
  legend();
  const source = new EventSource('/events');
  const connection = $('connection');
  source.addEventListener('open', () => {
    connection.dataset.state = 'live';
    connection.textContent = 'live';
  });
  source.addEventListener('error', () => {
    connection.dataset.state = 'down';
    connection.textContent = 'disconnected (retrying)';
  });
  source.addEventListener('run', (message) => apply(JSON.parse(message.data)));
  source.addEventListener('result', (message) => {
    const run = runs.get(JSON.parse(message.data).runId);
    if (run === undefined) return;
    run.hasOutputs = true;
    run.outputs = undefined;
    schedule();
  });
  render();
  setInterval(() => {
    const run = runs.get(selected);
    if (run?.status === 'running') renderSteps(run); // running durations tick
  }, 1000);
}

start();
