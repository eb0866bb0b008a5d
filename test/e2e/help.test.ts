import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { NDF_BIN, ndf, ROOT } from './cli.js';

describe.concurrent('ndf --help', () => {
  it('lists the commands with examples', async () => {
    const result = await ndf(['--help']);
    expect(result.code).toBe(0);
    for (const word of ['run', 'validate', 'schema', 'Examples:', 'docs/workflow.md'])
      expect(result.stdout).toContain(word);
  });

  it('examples say npx ndf (ndf is not on PATH in a checkout) and --log-level is documented', async () => {
    for (const args of [['--help'], ['run', '--help'], ['agent', '--help'], ['diagram', '--help']]) {
      const result = await ndf(args);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('$ npx ndf ');
      expect(result.stdout).not.toMatch(/\$ ndf /);
    }
    const top = await ndf(['--help']);
    expect(top.stdout).toContain('--log-level <level>');
    expect(top.stdout).toContain('ND_LOG_LEVEL');
  });

  it('the e2e tests run a fresh build, not the sources', () => {
    expect(NDF_BIN.startsWith(ROOT)).toBe(false);
    expect(NDF_BIN).toMatch(/ndf-e2e-cli-\w+\/bin\/ndf\.js$/);
  });

  it('explains every option of run, with examples and exit codes', async () => {
    const result = await ndf(['run', '--help']);
    expect(result.code).toBe(0);
    for (const option of [
      '--input',
      '--trace',
      '--json',
      '--dry-run',
      '--timeout',
      '--output',
      '--resolver',
      'Exit codes',
      'Examples:',
    ]) {
      expect(result.stdout).toContain(option);
    }
  });

  it('schema prints a JSON Schema that rejects unknown fields', async () => {
    const result = await ndf(['schema']);
    expect(result.code).toBe(0);
    const schema = JSON.parse(result.stdout) as {
      properties: Record<string, unknown>;
      additionalProperties: unknown;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['agents', 'patterns', 'run', 'breaker']),
    );
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'name', 'agents', 'patterns', 'run']));
    // docs/workflow.schema.json (what editors use) is this output: regenerate it with
    // `node bin/ndf.js schema --out docs/workflow.schema.json` when the schema changes.
    expect(await readFile(`${ROOT}/docs/workflow.schema.json`, 'utf8')).toBe(result.stdout);
  });
});
