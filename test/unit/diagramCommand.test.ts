import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { diagramCommand } from '../../src/cli/commands/diagram.js';
import { builtInMachines } from '../../src/cli/commands/diagramMachines.js';
import { renderSvg } from '../../src/diagram/index.js';
import { tempDir } from '../helpers/tempDir.js';
import { sagaTrace, sampleMachine } from './diagramFixtures.js';
import { parseMermaid } from './mermaidParser.js';

const dir = tempDir('ndf-diagram-');

/** Runs `ndf diagram <args>` in-process; returns stdout, stderr and the exit code. */
async function ndfDiagram(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  process.exitCode = undefined;
  try {
    const command = diagramCommand().exitOverride();
    await command.parseAsync(args, { from: 'user' });
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  process.exitCode = undefined;
  return { out, err, code };
}

beforeAll(async () => {
  await renderSvg('digraph { a }');
  await parseMermaid('stateDiagram-v2\n  [*] --> a\n');
});
afterEach(() => vi.restoreAllMocks());

describe('ndf diagram', () => {
  it('lists the built-in machines', async () => {
    const { out, code } = await ndfDiagram('--list');
    expect(code).toBe(0);
    for (const name of ['step', 'sequential', 'parallel', 'orchestration', 'circuitBreaker'])
      expect(out).toMatch(new RegExp(`^${name} `, 'm'));
  });

  it.each(Object.keys(builtInMachines))(
    'draws the %s machine as Mermaid the parser accepts and as SVG',
    async (name) => {
      const mermaid = await ndfDiagram(name);
      expect(mermaid.code).toBe(0);
      expect(await parseMermaid(mermaid.out)).toBe('stateDiagram');
      const file = path.join(dir, `${name}.svg`);
      const svg = await ndfDiagram(name, '--out', file);
      expect(svg.code).toBe(0);
      expect(svg.err).toContain(`wrote ${file} (svg,`);
      expect(readFileSync(file, 'utf8')).toMatch(/<svg[\s\S]*<\/svg>/);
    },
  );

  it('draws the patterns of a workflow file and of a PatternSpec JSON file', async () => {
    const wf = await ndfDiagram('--workflow', 'examples/data-pipeline/workflow.yaml', '--format', 'mermaid');
    expect(wf.code).toBe(0);
    expect(await parseMermaid(wf.out)).toBe('stateDiagram');
    const specFile = path.join(dir, 'specs.json');
    writeFileSync(
      specFile,
      JSON.stringify({ etl: { kind: 'sequential', steps: ['a', { name: 'b', retry: { maxAttempts: 2 } }] } }),
    );
    const dot = await ndfDiagram('--workflow', specFile, '--pattern', 'etl', '-f', 'dot');
    expect(dot.code).toBe(0);
    expect(dot.out).toContain('digraph "etl"');
    expect(dot.out).toContain('compensate a');
  });

  it('draws a run from its trace, coloured', async () => {
    const trace = path.join(dir, 'run.jsonl');
    writeFileSync(trace, sagaTrace.map((e) => JSON.stringify(e)).join('\n'));
    const { out, code } = await ndfDiagram('--trace', trace, '--format', 'svg');
    expect(code).toBe(0);
    expect(out).toContain('<svg');
    expect(out).toContain('fill="#ffcdd2"');
    const md = path.join(dir, 'run.md');
    expect((await ndfDiagram('--trace', trace, '-o', md)).code).toBe(0);
    expect(readFileSync(md, 'utf8')).toMatch(/^```mermaid\n---\ntitle: "run r1: etl \(rolledBack\)"/);
  });

  it('exits 2 with a short message on bad input', async () => {
    const unknown = await ndfDiagram('nope');
    expect(unknown).toMatchObject({ code: 2, out: '' });
    expect(unknown.err).toContain('unknown machine nope: one of step,');
    expect((await ndfDiagram()).err).toContain('give one of');
    expect((await ndfDiagram('--trace', path.join(dir, 'missing.jsonl'))).err).toContain('ENOENT');
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"type":"run.started"}\n');
    expect(await ndfDiagram('--trace', bad)).toMatchObject({ code: 2 });
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'version: 1\nname: [\n');
    expect((await ndfDiagram('--workflow', broken)).code).toBe(2);
  });

  it('takes injected machines', async () => {
    const command = diagramCommand({ machines: { sample: { machine: sampleMachine, description: 'test' } } });
    expect(command.registeredArguments[0]?.description).toContain('sample');
  });
});
