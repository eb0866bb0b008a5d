import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ndf } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';

/** The parts of an OTLP/HTTP JSON export request the test reads. */
const otlpTraces = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({
        attributes: z.array(z.object({ key: z.string(), value: z.record(z.string(), z.unknown()) })),
      }),
      scopeSpans: z.array(
        z.object({
          scope: z.object({ name: z.string() }),
          spans: z.array(
            z.object({
              traceId: z.string(),
              spanId: z.string(),
              parentSpanId: z.string().optional(),
              name: z.string(),
              startTimeUnixNano: z.union([z.string(), z.number()]),
              status: z.object({ code: z.number().optional() }).optional(),
            }),
          ),
        }),
      ),
    }),
  ),
});
type OtlpSpan = z.infer<typeof otlpTraces>['resourceSpans'][number]['scopeSpans'][number]['spans'][number];

const received: { path: string; contentType: string; body: string }[] = [];
let server: Server;
let endpoint = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** `name status` lines indented by depth, children in start order (status: error or ok). */
function tree(spans: readonly OtlpSpan[]): string[] {
  const start = (s: OtlpSpan) => BigInt(s.startTimeUnixNano);
  const sorted = [...spans].sort((a, b) => (start(a) < start(b) ? -1 : start(a) > start(b) ? 1 : 0));
  const out: string[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const s of sorted.filter((x) => (x.parentSpanId || undefined) === parent)) {
      out.push(`${'  '.repeat(depth)}${s.name} ${s.status?.code === 2 ? 'error' : 'ok'}`);
      walk(s.spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}

const SAGA_TREE = [
  'run saga error',
  '  invoke_workflow saga ok',
  '    step a ok',
  '      invoke_agent worker ok',
  '      compensate a ok',
  '    step b ok',
  '      invoke_agent worker error',
  '      invoke_agent worker ok',
  '      compensate b ok',
  '    step c error',
  '      invoke_agent worker error',
];

describe('ndf run --otlp and --trace spans', () => {
  it('exports the span tree and metrics of a run with a retry and a compensation to an OTLP/HTTP receiver', async () => {
    const run = await ndf(
      ['run', 'test/e2e/fixtures/traced/saga.yaml', '--no-progress', '--otlp', endpoint],
      {
        env: { OTEL_SERVICE_NAME: 'saga-test' },
      },
    );
    expect(run.code).toBe(1); // the run rolled back
    const traces = received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    expect(traces[0]?.contentType).toContain('application/json');
    const batches = traces.map((r) => otlpTraces.parse(JSON.parse(r.body)));
    const spans = batches.flatMap((b) =>
      b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );
    expect(tree(spans)).toEqual(SAGA_TREE);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
    const resource = batches[0]?.resourceSpans[0]?.resource.attributes.find((a) => a.key === 'service.name');
    expect(resource?.value).toEqual({ stringValue: 'saga-test' });
    const metrics = received
      .filter((r) => r.path === '/v1/metrics')
      .map((r) => r.body)
      .join('\n');
    for (const name of ['ndf.step.duration', 'ndf.step.attempts', 'ndf.agent.duration', 'ndf.run.duration'])
      expect(metrics).toContain(`"name":"${name}"`);
  });

  it('--trace writes span records beside the events, the same tree', async () => {
    const file = path.join(tempDir('ndf-trace-'), 'run.jsonl');
    const run = await ndf(['run', 'test/e2e/fixtures/traced/saga.yaml', '--no-progress', '--trace', file]);
    expect(run.code).toBe(1);
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; span?: OtlpSpan & { status: string; startedAt: number } });
    const spans = lines.flatMap((l) =>
      l.type === 'span' && l.span
        ? [
            {
              ...l.span,
              startTimeUnixNano: l.span.startedAt,
              status: { code: l.span.status === 'error' ? 2 : 1 },
            },
          ]
        : [],
    );
    expect(tree(spans)).toEqual(SAGA_TREE);
    expect(lines.some((l) => l.type === 'step.status')).toBe(true);
  });

  it('rejects an unknown --trace-level', async () => {
    const run = await ndf(['run', 'test/e2e/fixtures/traced/saga.yaml', '--trace-level', 'loud']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--trace-level.*loud/);
  });

  it('ndf trace prints the timeline and tables; svg and html draw it; an events-only trace is replayed', async () => {
    const dir = tempDir('ndf-trace-');
    const file = path.join(dir, 'run.jsonl');
    expect(
      (
        await ndf([
          'run',
          'test/e2e/fixtures/traced/saga.yaml',
          '--no-progress',
          '--trace',
          file,
          '--trace-level',
          'detailed',
        ])
      ).code,
    ).toBe(1);
    const text = await ndf(['trace', file, '--width', '40']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^saga rolledBack in \d+ ms \(run /);
    expect(text.stdout).toMatch(/^\* b +│[ ░▓█▒]{40}│ \d+ ms$/m);
    expect(text.stdout).toContain('critical path: a → b → c');
    expect(text.stdout).toMatch(/│ worker +│ 4 +│ 2 +│/);
    expect(text.stdout).toMatch(/retries: b attempt 1 at \+\d+ ms \(ND_AGENT_ERROR\)/);

    const svgFile = path.join(dir, 'run.svg');
    expect((await ndf(['trace', file, '--format', 'svg', '-o', svgFile])).code).toBe(0);
    const svg = await readFile(svgFile, 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('b attempt 1 on worker: failed');
    const html = await ndf(['trace', file, '--format', 'html']);
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect(html.stdout).toContain('<td>ND_AGENT_ERROR</td>');

    // a trace from before span records: only RunEvents
    const old = path.join(dir, 'old.jsonl');
    const events = (await readFile(file, 'utf8'))
      .split('\n')
      .filter((l) => l && !l.includes('"type":"span"'));
    await writeFile(old, `${events.join('\n')}\n`);
    const replayed = await ndf(['trace', old, '--width', '40']);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain('critical path: a → b → c');
    expect(replayed.stdout).toContain('spans rebuilt from the run events');

    const missing = await ndf(['trace', path.join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
  });
});
