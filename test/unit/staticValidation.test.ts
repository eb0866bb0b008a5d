import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMode } from '../../src/cli/commands/validate.js';
import { isWorkflowError } from '../../src/cli/workflow/issues.js';
import { loadWorkflowText } from '../../src/cli/workflow/load.js';
import { tempDir } from '../helpers/tempDir.js';

/** `ndf validate` is static: module agents are not imported and NATS servers not contacted unless --deep. */

function workflow(agents: string): string {
  return `version: 1\nname: w\nagents:\n${agents}\npatterns:\n  p: { type: sequential, steps: [a] }\nrun: { pattern: p }\n`;
}

async function issuesOf(text: string, file: string, deep: boolean): Promise<string[]> {
  try {
    await loadWorkflowText(text, file, loadMode(deep));
    return [];
  } catch (error) {
    if (!isWorkflowError(error)) throw error;
    return error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  }
}

describe('static validation', () => {
  it('does not import a module agent (its side effect does not happen) unless deep', async () => {
    const dir = tempDir('nd-static-');
    const marker = path.join(dir, 'imported.txt');
    writeFileSync(
      path.join(dir, 'agent.mjs'),
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'x');\nexport function handler() { return 1; }\n`,
    );
    const text = workflow('  m: { kind: module, capabilities: [a], module: ./agent.mjs }');
    const file = path.join(dir, 'workflow.yaml');
    expect(await issuesOf(text, file, false)).toEqual([]);
    expect(existsSync(marker)).toBe(false);
    expect(await issuesOf(text, file, true)).toEqual([]);
    expect(existsSync(marker)).toBe(true);
  });

  it('reports a missing module file statically, and a module that throws only when deep', async () => {
    const dir = tempDir('nd-static-');
    writeFileSync(path.join(dir, 'throws.mjs'), `throw new Error('boom at import');\n`);
    const file = path.join(dir, 'workflow.yaml');
    expect(
      await issuesOf(
        workflow('  m: { kind: module, capabilities: [a], module: ./missing.mjs }'),
        file,
        false,
      ),
    ).toEqual([expect.stringMatching(/^agents\.m\.module: module \.\/missing\.mjs not found/)]);
    const throwing = workflow('  m: { kind: module, capabilities: [a], module: ./throws.mjs }');
    expect(await issuesOf(throwing, file, false)).toEqual([]);
    expect((await issuesOf(throwing, file, true)).join('\n')).toMatch(/boom at import/);
  });

  it('does not connect to the NATS server of a nats agent unless deep', async () => {
    const file = path.join(tempDir('nd-static-'), 'workflow.yaml');
    // Port 1 refuses connections: deep validation reports it, static validation does not try.
    const text = workflow('  r: { kind: nats, capabilities: [a], servers: "nats://127.0.0.1:1" }');
    expect(await issuesOf(text, file, false)).toEqual([]);
    expect((await issuesOf(text, file, true)).join('\n')).toMatch(
      /agents\.r\.servers: cannot connect to NATS/,
    );
  });

  it('still reports a command that does not exist', async () => {
    const file = path.join(tempDir('nd-static-'), 'workflow.yaml');
    const text = workflow('  c: { kind: command, capabilities: [a], command: [no-such-command-xyz] }');
    expect(await issuesOf(text, file, false)).toEqual([
      'agents.c.command.0: command "no-such-command-xyz" not found (looked in PATH)',
    ]);
  });
});
