import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ndf } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';

const fixture = (name: string): string => `test/e2e/fixtures/${name}`;

/** Each broken file: the line and field the error must name, and a word of the message. */
const cases: readonly { file: string; where: string; says: string; args?: readonly string[] }[] = [
  {
    file: 'unknown-field.yaml',
    where: 'unknown-field.yaml:13:9 patterns.only.steps[0].retries:',
    says: 'unknown field (did you mean "retry"?)',
  },
  {
    file: 'unknown-agent.yaml',
    where: 'unknown-agent.yaml:13:16 patterns.only.steps[0].agent:',
    says: 'unknown agent "ghost"',
  },
  {
    file: 'no-capable-agent.yaml',
    where: 'no-capable-agent.yaml:13:9 patterns.only.steps[1]:',
    says: 'no agent can perform step "translate"',
  },
  {
    file: 'cycle.yaml',
    where: 'cycle.yaml:13:20 patterns.tangled.tasks[0].dependsOn:',
    says: 'cyclic dependencies: a → c → b → a',
  },
  {
    file: 'missing-command.yaml',
    where: 'missing-command.yaml:6:15 agents.worker.command[0]:',
    says: 'command "ndf-no-such-tool-42" not found',
  },
  {
    file: 'throwing-module.yaml',
    // Modules are imported only by a deep validation.
    args: ['--deep'],
    where: 'throwing-module.yaml:6:13 agents.worker.module:',
    says: 'failed to load: database URL is not configured',
  },
  {
    file: 'http-agent.yaml',
    where: 'http-agent.yaml:6:10 agents.remote.url:',
    says: 'must be an http:// or https:// URL',
  },
];

/** Malformed YAML (an unclosed flow sequence), written at test time: the formatter would choke on a fixture. */
const MALFORMED = `version: 1
name: malformed
agents:
  worker:
    kind: command
    command: [node, -e, "process.stdout.write('{}')"]
    capabilities: [work
patterns:
  only:
    type: sequential
    steps: [work]
run:
  pattern: only
`;

describe.concurrent('broken workflow files', () => {
  it('validate malformed YAML: exit 2 naming file and line', async () => {
    const file = path.join(tempDir('ndf-malformed-'), 'malformed.yaml');
    await writeFile(file, MALFORMED);
    const result = await ndf(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${file}:8:1: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    );
    expect(result.stdout).toBe('');
  });

  for (const c of cases) {
    it(`validate ${c.file}: exit 2 naming file, line and field`, async () => {
      const result = await ndf(['validate', fixture(c.file), ...(c.args ?? [])]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(fixture(c.where));
      expect(result.stderr).toContain(c.says);
      expect(result.stdout).toBe('');
    });
  }

  it('run refuses a broken file with exit 2 before anything runs (no trace written)', async () => {
    const dir = tempDir('ndf-bad-');
    const trace = path.join(dir, 'trace.jsonl');
    const result = await ndf(['run', fixture('unknown-agent.yaml'), '--trace', trace]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown agent "ghost"');
    expect(existsSync(trace)).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('validate --json reports the issues with their lines', async () => {
    const result = await ndf(['validate', fixture('unknown-field.yaml'), '--json']);
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as {
      valid: boolean;
      issues: { path: unknown[]; line: number }[];
    };
    expect(report.valid).toBe(false);
    expect(report.issues).toEqual([
      expect.objectContaining({
        path: ['patterns', 'only', 'steps', 0, 'retries'],
        line: 13,
        message: 'unknown field (did you mean "retry"?)',
      }),
    ]);
  });

  it('a missing file, bad --input JSON and an unknown option are bad input (exit 2)', async () => {
    const missing = await ndf(['run', 'no/such/workflow.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no/such/workflow.yaml: cannot read the workflow: file not found');
    const badInput = await ndf(['run', 'examples/data-pipeline/workflow.yaml', '--input', '{not json']);
    expect(badInput.code).toBe(2);
    expect(badInput.stderr).toContain('--input: not valid JSON');
    const badOption = await ndf(['run', 'examples/data-pipeline/workflow.yaml', '--frobnicate']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain("unknown option '--frobnicate'");
  });

  it('the examples are valid', async () => {
    for (const file of ['examples/data-pipeline/workflow.yaml', 'examples/project-check/workflow.yaml']) {
      const result = await ndf(['validate', file]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/is valid: \d+ agents, \d+ patterns?; runs \w+/);
    }
  });
});
