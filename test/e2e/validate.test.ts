import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tempDir.js';
import { ndf } from './cli.js';

const fixture = (name: string): string => `test/e2e/fixtures/${name}`;

describe.concurrent('ndf validate reports every problem in one pass', () => {
  it('a schema problem and a missing command together (the docs/workflow.md example)', async () => {
    const file = fixture('two-problems.yaml');
    const result = await ndf(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `✖ ${file}: 2 problems`,
      `${file}:15:9 patterns.only.steps[0].retries: unknown field (did you mean "retry"?)`,
      `${file}:8:15 agents.worker.command[0]: command "ndf-no-such-tool-42" not found (looked in PATH)`,
    ]);
  });

  it('invalid entries and broken references together, without false references to the invalid agent', async () => {
    const file = fixture('broken-entries.yaml');
    const result = await ndf(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `✖ ${file}: 5 problems`,
      `${file}:8:14 agents.empty.command: Too small: expected array to have >=1 items`,
      `${file}:25:14 run.timeoutMs: must be at least 1 ms`,
      `${file}:17:34 patterns.p.steps[1].agent: unknown agent "ghost" (declared: other, empty)`,
      `${file}:17:43 patterns.p.steps[2]: no agent can perform step "c": none has capability "c"`,
      `${file}:22:23 patterns.m.phases[0].patterns[1]: unknown pattern "nope"`,
    ]);
  });

  it('an empty file says so', async () => {
    const file = path.join(tempDir('ndf-empty-'), 'empty.yaml');
    await writeFile(file, '\n# nothing yet\n');
    const result = await ndf(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${file}:1:1: the file is empty: expected a workflow (see docs/workflow.md)`,
    );
    expect(result.stderr).not.toContain('received null');
  });
});
