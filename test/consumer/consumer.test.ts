/**
 * The package as a user installs it: `npm pack` (which builds on `prepack`), the tarball
 * installed into a temporary project with no dev dependencies, then run with plain node.
 */
import { execFile } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConsumerProject,
  installedPackages,
  loadedModules,
  npm,
  packagesOf,
  repoRoot,
  type ConsumerProject,
} from './consumerProject.js';

const run = promisify(execFile);
const fixtures = path.join(repoRoot, 'test/consumer/fixtures');
let project: ConsumerProject;

/** Runs `args` with plain node in the consumer project; never rejects (the exit code is in `code`). */
async function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, args, { cwd: project.dir, timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === 'number' ? error.code : -1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

describe('the packed package, installed in a project without dev dependencies', () => {
  beforeAll(async () => {
    project = await createConsumerProject();
  }, 150_000);
  afterAll(async () => {
    await project?.remove();
  });

  it('ships built JavaScript, declarations, the bin, README and LICENSE, and no source maps or sources', async () => {
    const files = (await run('tar', ['-tzf', project.tarball])).stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'bin/ndf.js',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/nats.js',
        'dist/cli/main.js',
        'dist/inspector/index.js',
        'dist/inspector/page/index.html',
        'dist/inspector/page/app.js',
      ]),
    );
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('examples/'))).toEqual([]);
  });

  it('resolves one copy of the NATS client, and only packages that accept the lowest node version we declare (20.x)', async () => {
    const tree = JSON.parse(
      await npm(['ls', '--all', '--json', '@nats-io/nats-core'], project.dir),
    ) as unknown;
    const versions = new Set<string>();
    const walk = (deps: Record<string, { version?: string; dependencies?: object }> | undefined) => {
      for (const [name, dep] of Object.entries(deps ?? {})) {
        if (name === '@nats-io/nats-core' && dep.version) versions.add(dep.version);
        walk(dep.dependencies as typeof deps);
      }
    };
    walk((tree as { dependencies?: Record<string, { version?: string }> }).dependencies);
    expect([...versions]).toHaveLength(1);

    // what we declare is true: every installed package accepts the lowest node we accept
    // (and the project was installed with --engine-strict on this node)
    const declared = (
      JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
        engines: { node: string };
      }
    ).engines.node;
    const lowest = semver.minVersion(declared)!.version;
    expect(semver.major(lowest)).toBe(20);
    const refusing = (await installedPackages(project.dir))
      .filter((p) => p.node !== undefined && !semver.satisfies(lowest, p.node))
      .map((p) => `${p.name}@${p.version} (node ${p.node})`);
    expect(refusing).toEqual([]);
  });

  it('loads neither NATS, YAML, Graphviz, storage formats nor pino on the root import; /nats loads the NATS client', async () => {
    const root = packagesOf(await loadedModules(project.dir, 'natural-delegation'));
    expect(root).toEqual(['natural-delegation', 'xstate', 'zod']);
    const nats = packagesOf(await loadedModules(project.dir, 'natural-delegation/nats'));
    expect(nats).toContain('@nats-io/transport-node');
    expect(nats).not.toContain('yaml');
  });

  it('runs an embedded sequential pattern and a parallel DAG with plain node', async () => {
    await copyFile(path.join(fixtures, 'embedded.mjs'), path.join(project.dir, 'embedded.mjs'));
    const result = await node(['embedded.mjs']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as Record<
      string,
      { status: string; steps: { name: string; status: string; output: { after: string[] } }[] }
    >;
    expect(out['etl']?.status).toBe('succeeded');
    expect(out['etl']?.steps.map((s) => [s.name, s.status, s.output.after])).toEqual([
      ['fetch', 'completed', []],
      ['parse', 'completed', ['fetch']],
    ]);
    expect(out['deploy']?.status).toBe('succeeded');
    expect(out['deploy']?.steps.map((s) => [s.name, s.status, s.output.after])).toEqual([
      ['db', 'completed', []],
      ['api', 'completed', ['db']],
      ['web', 'completed', ['api', 'db']],
    ]);
  });

  it('`ndf run` from the installed bin runs a JSON workflow of command agents', async () => {
    await copyFile(path.join(fixtures, 'workflow.json'), path.join(project.dir, 'workflow.json'));
    const result = await node(['node_modules/.bin/ndf', 'run', 'workflow.json', '--json']);
    expect(result.code).toBe(0);
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as {
      type: string;
      result: { status: string; steps: { name: string; status: string }[] };
    };
    expect(last.type).toBe('run.result');
    expect(last.result.status).toBe('succeeded');
    expect(last.result.steps.map((s) => `${s.name}:${s.status}`).sort()).toEqual(
      ['fetch', 'join', 'left', 'parse', 'right'].map((n) => `${n}:completed`),
    );
    // each command agent wrote what it received: join ran after both parallel branches
    const join = JSON.parse(await readFile(path.join(project.dir, 'join.json'), 'utf8')) as {
      after: string[];
    };
    expect(join.after).toEqual(expect.arrayContaining(['left', 'right']));
  });

  it('a TypeScript module agent without tsx installed fails with an error saying to install tsx', async () => {
    await writeFile(
      path.join(project.dir, 'agent.ts'),
      'export function handler(): number {\n  return 1;\n}\n',
    );
    await copyFile(path.join(fixtures, 'ts-agent.json'), path.join(project.dir, 'ts-agent.json'));
    const result = await node(['node_modules/.bin/ndf', 'run', 'ts-agent.json']);
    expect(result.code).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('npm install tsx');
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/\n\s+at /);
  });
});
