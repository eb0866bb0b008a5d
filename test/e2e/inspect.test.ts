import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndf, startNdf, type NdfProcess } from './cli.js';

/** The inspector from the command line: `ndf inspect --trace` and `ndf run --inspect`. */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ndf-inspect-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIRST = 'test/e2e/fixtures/first.yaml';

/** Resolves with the inspector URL once `stream` printed it. */
function urlFrom(proc: NdfProcess, stream: 'stdout' | 'stderr', timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const read = () => (stream === 'stdout' ? proc.output() : proc.errors());
    const timer = setTimeout(
      () => reject(new Error(`no inspector URL; stdout: ${proc.output()}; stderr: ${proc.errors()}`)),
      timeoutMs,
    );
    const check = () => {
      const match = /inspector (http:\/\/127\.0\.0\.1:\d+\/)/.exec(read());
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolve(match[1]);
    };
    proc.child[stream].on('data', check);
    check();
  });
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.json();
}

describe('ndf inspect', () => {
  it('serves the runs of a trace until SIGTERM, then exits 0', async () => {
    const trace = path.join(dir, 'run.jsonl');
    const run = await ndf(['run', FIRST, '--trace', trace, '--no-progress']);
    expect(run.code).toBe(0);
    const proc = startNdf(['inspect', '--trace', trace]);
    try {
      const url = await urlFrom(proc, 'stdout');
      const runs = (await getJson(`${url}api/runs`)) as Array<{
        runId: string;
        pattern: string;
        status: string;
      }>;
      expect(runs.map((r) => [r.pattern, r.status])).toEqual([['hello', 'succeeded']]);
      const page = await fetch(url);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toContain('natural-delegation inspector');
      const diagram = (await getJson(`${url}api/runs/${runs[0]!.runId}/diagram`)) as {
        source: string;
        nodes: object;
      };
      expect(diagram.source).toBe('trace');
      expect(Object.values(diagram.nodes)).toEqual([{ key: '["hello","echo"]', role: 'step' }]);
      await proc.printed(/1 run from .*run\.jsonl: http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C to stop\)/);
    } finally {
      await proc.stop();
    }
    expect(await proc.exited).toBe(0);
  });

  it('refuses bad input with exit code 2', async () => {
    const none = await ndf(['inspect']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('inspect: give --trace <file.jsonl>');
    const missing = await ndf(['inspect', '--trace', path.join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    expect(missing.stderr).toContain('ENOENT');
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(
      bad,
      '{"type":"run.started","at":1,"runId":"r","pattern":"p","patternType":"x"}\nnot json\n',
    );
    const malformed = await ndf(['inspect', '--trace', bad]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('bad.jsonl: line 2: not a JSON object');
    const port = await ndf(['inspect', '--trace', bad, '--port', '70000']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port');
  });
});

describe('ndf run --inspect', () => {
  it('serves the run live, then its outputs until Ctrl-C; the exit code is the run’s', async () => {
    const proc = startNdf(['run', FIRST, '--inspect', '--no-progress']);
    try {
      const url = await urlFrom(proc, 'stderr');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "still serving": ${proc.errors()}`)), 20_000);
        const check = () => {
          if (!proc.errors().includes('run succeeded; still serving')) return;
          clearTimeout(timer);
          resolve();
        };
        proc.child.stderr.on('data', check);
        check();
      });
      expect(proc.output()).toContain('succeeded');
      const runs = (await getJson(`${url}api/runs`)) as Array<{ runId: string; hasOutputs: boolean }>;
      expect(runs).toHaveLength(1);
      expect(runs[0]?.hasOutputs).toBe(true);
      const outputs = (await getJson(`${url}api/runs/${runs[0]!.runId}/outputs`)) as { outputs: unknown[] };
      expect(outputs.outputs).toEqual([
        {
          key: '["hello","echo"]',
          output: expect.objectContaining({ step: 'echo', input: { params: 'hi there', results: {} } }),
        },
      ]);
      const diagram = (await getJson(`${url}api/runs/${runs[0]!.runId}/diagram`)) as { source: string };
      expect(diagram.source).toBe('pattern');
      proc.child.kill('SIGINT');
      expect(await proc.exited).toBe(0);
    } finally {
      await proc.stop();
    }
  });

  it('refuses a bad port and --dry-run', async () => {
    const port = await ndf(['run', FIRST, '--inspect', 'abc']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--inspect: must be a port number (0 to 65535)');
    const dry = await ndf(['run', FIRST, '--inspect', '--dry-run']);
    expect(dry.code).toBe(2);
    expect(dry.stderr).toContain('--inspect applies to a run, not to --dry-run');
  });
});
