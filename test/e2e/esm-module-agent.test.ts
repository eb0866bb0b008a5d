import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../integration/natsServer.js';
import { tempDir } from '../helpers/tempDir.js';
import { CHECKOUT_BIN, ndf, parseJsonl, startNdf } from './cli.js';

// A plain ESM .js agent in a directory with no package.json (so not a "type": "module" package),
// as a user writes it next to a workflow: it failed to load through the checkout's launcher
// ("Cannot require() ES Module … in a cycle") while it loaded from an installed package.
const SUMMARIZE = `export async function handler(task) {
  return { summary: String(task.input.params).slice(0, 12) };
}
`;
const workflow = (agents: string) => `version: 1
name: esm
${agents}patterns:
  only:
    type: sequential
    steps:
      - name: summarize
        input: a long text to summarize
run:
  pattern: only
`;

let dir: string;
let server: NatsServer;
beforeAll(async () => {
  dir = tempDir('ndf-esm-');
  await writeFile(path.join(dir, 'summarize.js'), SUMMARIZE);
  await writeFile(
    path.join(dir, 'local.yaml'),
    workflow('agents:\n  s:\n    kind: module\n    module: ./summarize.js\n    capabilities: [summarize]\n'),
  );
  await writeFile(path.join(dir, 'remote.yaml'), workflow('agents: {}\n'));
  server = await startNatsServer({ jetstream: false });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const summary = (stdout: string): unknown =>
  (parseJsonl(stdout).at(-1) as { result: { steps: { output?: unknown }[] } }).result.steps[0]?.output;

describe('ESM .js module agents through the checkout launcher (bin/ndf.js over src)', () => {
  it('ndf run loads a module agent written as plain ESM .js', async () => {
    const run = await ndf(['run', 'local.yaml', '--json'], { cwd: dir, bin: CHECKOUT_BIN });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(summary(run.stdout)).toEqual({ summary: 'a long text ' });
  });

  it('ndf agent --module ./summarize.js serves it (the docs/remote-agents.md example)', async () => {
    const agent = startNdf(
      [
        'agent',
        '--nats',
        server.url,
        '--name',
        'summarizer',
        '--capabilities',
        'summarize',
        '--module',
        './summarize.js',
      ],
      { cwd: dir, bin: CHECKOUT_BIN },
    );
    try {
      await agent.printed(/agent summarizer .* serving summarize/, 30_000);
      const run = await ndf(['run', 'remote.yaml', '--nats', server.url, '--json'], { cwd: dir });
      expect(run.code).toBe(0);
      expect(summary(run.stdout)).toEqual({ summary: 'a long text ' });
    } finally {
      await agent.stop();
    }
  });
});
