import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndf, ROOT, startNdf, type NdfProcess } from './cli.js';

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
    const none = await ndf(['inspect'], { env: { NDF_STORE: path.join(dir, 'no-store') } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`inspect: no run store at ${path.join(dir, 'no-store')}`);
    expect(none.stderr).toContain('give --store <dir>, or --trace <file.jsonl>');
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

describe('ndf inspect --store', () => {
  type Listed = { runId: string; pattern: string; patternType: string; status: string; hasOutputs: boolean };
  type StepEvent = {
    type: string;
    step?: string;
    status?: string;
    attempt?: number;
    error?: { message: string };
  };
  const stepStates = (events: StepEvent[]): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    for (const e of events) if (e.type === 'step.status') (out[e.step!] ??= []).push(e.status!);
    return out;
  };

  it('serves the runs of the default store (.nd), their step states, outputs and pattern diagrams, and runs that start later', async () => {
    const project = path.join(dir, 'project');
    mkdirSync(project);
    const local = { cwd: project, env: { NDF_STORE: undefined } };
    const first = await ndf(['run', path.join(ROOT, FIRST), '--run-id', 'ok', '--no-progress'], local);
    expect(first.code).toBe(0);
    const saga = path.join(ROOT, 'test/e2e/fixtures/traced/saga.yaml');
    const failed = await ndf(['run', saga, '--run-id', 'saga', '--no-progress'], local);
    expect(failed.code).toBe(1);

    const proc = startNdf(['inspect'], local);
    let live: NdfProcess | undefined;
    try {
      const url = await urlFrom(proc, 'stdout');
      await proc.printed(
        /2 runs from the store .*\.nd \(watching it\): http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C to stop\)/,
      );
      const runs = (await getJson(`${url}api/runs`)) as Listed[];
      expect(runs.map((r) => [r.runId, r.pattern, r.patternType, r.status, r.hasOutputs])).toEqual([
        ['ok', 'hello', 'sequential', 'succeeded', true],
        ['saga', 'saga', 'sequential', 'rolledBack', true],
      ]);
      const sagaRun = (await getJson(`${url}api/runs/saga`)) as { events: StepEvent[] };
      expect(stepStates(sagaRun.events)).toEqual({
        a: ['running', 'completed', 'compensating', 'compensated'],
        b: ['running', 'retrying', 'running', 'completed', 'compensating', 'compensated'],
        c: ['running', 'failed'],
      });
      const cFailed = sagaRun.events.find((e) => e.step === 'c' && e.status === 'failed');
      expect(cFailed?.error?.message).toBeTruthy();
      const outputs = (await getJson(`${url}api/runs/ok/outputs`)) as { outputs: unknown[] };
      expect(outputs.outputs).toEqual([
        {
          key: '["hello","echo"]',
          output: expect.objectContaining({ step: 'echo', input: { params: 'hi there', results: {} } }),
        },
      ]);
      // drawn as the pattern's diagram: the workflow file the run was started from still matches it
      const diagram = (await getJson(`${url}api/runs/saga/diagram`)) as {
        source: string;
        nodes: Record<string, { key: string; role: string }>;
      };
      expect(diagram.source).toBe('pattern');
      expect(
        Object.values(diagram.nodes)
          .filter((n) => n.role === 'step')
          .map((n) => n.key)
          .sort(),
      ).toEqual(['["saga","a"]', '["saga","b"]', '["saga","c"]']);

      // a run another process starts in the store appears, running, without reloading anything
      live = startNdf(
        ['run', path.join(ROOT, 'test/e2e/fixtures/slow.yaml'), '--run-id', 'live', '--no-progress'],
        local,
      );
      await expect
        .poll(
          async () => {
            const now = (await getJson(`${url}api/runs`)) as Listed[];
            const run = now.find((r) => r.runId === 'live');
            if (run === undefined) return undefined;
            const events = ((await getJson(`${url}api/runs/live`)) as { events: StepEvent[] }).events;
            return [run.status, stepStates(events)];
          },
          { timeout: 20_000, interval: 250 },
        )
        .toEqual(['running', { sleep: ['running'] }]);
    } finally {
      await live?.stop();
      await proc.stop();
    }
    expect(await proc.exited).toBe(0);
  });

  it('refuses a missing or empty store with exit code 2', async () => {
    const missing = await ndf(['inspect', '--store', path.join(dir, 'nowhere')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--store: no run store at ${path.join(dir, 'nowhere')}`);
    const empty = path.join(dir, 'empty-store');
    mkdirSync(empty);
    const none = await ndf(['inspect', '--store', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`the run store ${empty} has no runs yet`);
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
