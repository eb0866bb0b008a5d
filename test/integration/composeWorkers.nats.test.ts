/**
 * The `workers` profile of docker-compose.yml, without docker (none here): its worker services'
 * commands run on this machine, as the compose file writes them, from the directory their
 * working_dir is mounted from, against a private nats-server started with the `nats` service's
 * config file (max_payload 8 MB). Two data-pipeline runs submitted with `ndf submit --wait`
 * succeed with the outputs of the same pipeline run in one process by `ndf run`; SIGTERM (what
 * `docker compose stop` sends) stops each worker cleanly. Not run: the `install` service
 * (`npm ci` in the container), which would replace this checkout's node_modules.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/core/result.js';
import { tempDir } from '../helpers/tempDir.js';
import { hostPath, inProfile, loadCompose, ROOT, type ComposeService } from './compose.js';
import { startGroup, type GroupProcess } from './groupProcess.js';
import { startNatsServer, type NatsServer } from './natsServer.js';

const WORKFLOW = 'examples/data-pipeline/workflow.yaml';
const services = loadCompose();
const workers = Object.entries(services).filter(
  ([, s]) => inProfile(s, 'workers') && s.command?.slice(0, 3).join(' ') === 'node bin/ndf.js worker',
);
const dir = tempDir('ndf-compose-workers-');
let server: NatsServer;
const started: GroupProcess[] = [];

/** The value following `flag` in a command. */
function option(command: readonly string[], flag: string): string {
  const at = command.indexOf(flag);
  if (at < 0 || command[at + 1] === undefined) throw new Error(`no ${flag} in ${command.join(' ')}`);
  return command[at + 1]!;
}

/** `node bin/ndf.js …args` from the checkout; resolves with its stdout, rejects on a non-zero exit. */
async function ndf(args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/ndf.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', NDF_STORE: path.join(dir, 'store') },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  return stdout;
}

/** The run.result line of `--json` output. */
function resultOf(stdout: string): RunResult {
  const line = stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type?: string; result?: RunResult })
    .find((l) => l.type === 'run.result');
  if (!line?.result) throw new Error(`no run.result in: ${stdout.slice(0, 2000)}`);
  return line.result;
}

/** Each step's output by step name, with the run's output directory written `<out>`. */
function outputs(result: RunResult, outDir: string): Record<string, unknown> {
  const byStep = Object.fromEntries(result.steps.map((s) => [s.name, s.output]));
  return JSON.parse(JSON.stringify(byStep).replaceAll(outDir, '<out>')) as Record<string, unknown>;
}

beforeAll(async () => {
  const nats = services['nats'];
  if (!nats?.command) throw new Error('docker-compose.yml has no nats service with a command');
  server = await startNatsServer({
    control: true, // started with the compose file's config, not whatever $NATS_URL runs
    args: ['-c', hostPath(nats, option(nats.command, '-c'))],
  });
});

afterAll(async () => {
  for (const p of started) p.signal('SIGKILL');
  await Promise.all(started.map((p) => p.exited));
  await server?.stop();
});

describe('docker compose --profile workers, run without docker', () => {
  it('has two workers on the data pipeline, wired to the nats service and the installed dependencies', () => {
    expect(workers.map(([name]) => name)).toHaveLength(2);
    const ids = new Set<string>();
    for (const [name, worker] of workers) {
      const command = worker.command!;
      expect(command.slice(3, 4), name).toEqual([WORKFLOW]);
      ids.add(option(command, '--id'));
      const url = new URL(option(command, '--nats'));
      const nats: ComposeService | undefined = services[url.hostname];
      expect(nats && inProfile(nats, 'workers'), `${name}: nats service ${url.hostname}`).toBe(true);
      expect(nats!.command, `${name}: nats service ${url.hostname}`).toContain('-js');
      expect(url.port || '4222').toBe('4222');
      expect(worker.depends_on?.[url.hostname]).toBeDefined();
      // node_modules comes from the install service's volume, installed before the worker starts
      const install = services['install'];
      expect(install?.profiles).toContain('workers');
      const target = `${worker.working_dir}/node_modules`;
      const modules = (s: ComposeService) => s.volumes.find((v) => v.split(':')[1] === target);
      expect(modules(worker), name).toBeDefined();
      expect(modules(worker)).toBe(modules(install!));
      expect(install!.working_dir).toBe(worker.working_dir);
      expect(worker.depends_on?.['install']?.condition).toBe('service_completed_successfully');
      expect(hostPath(worker, worker.working_dir ?? '/')).toBe(path.resolve(ROOT));
    }
    expect(ids.size).toBe(2);
  });

  it("shares the workers' locks through the profile's conflict resolver", () => {
    const resolver = services['resolver'];
    expect(resolver && inProfile(resolver, 'workers')).toBe(true);
    expect(resolver!.command?.slice(0, 3)).toEqual(['node', 'bin/ndf.js', 'resolver']);
    expect(new URL(option(resolver!.command!, '--nats')).hostname).toBe('nats');
    const served = resolver!.command!.includes('--prefix') ? option(resolver!.command!, '--prefix') : 'nd';
    for (const [name, worker] of workers) {
      expect(option(worker.command!, '--resolver'), name).toBe(served);
      expect(worker.depends_on?.['resolver'], name).toBeDefined();
    }
  });

  it('runs the pipeline on its workers with the outputs of ndf run in one process', async () => {
    const resolver = services['resolver']!;
    const [node, ...resolverArgs] = resolver.command!.map((a) =>
      a === option(resolver.command!, '--nats') ? server.url : a,
    );
    const served = startGroup(node === 'node' ? process.execPath : node!, resolverArgs, {
      cwd: hostPath(resolver, resolver.working_dir ?? '/'),
    });
    started.push(served);
    await served.printed(/conflict resolver .* serving/, 60_000);
    for (const [, worker] of workers) {
      // the service's command, with the test server's URL for the nats service's
      const [command, ...args] = worker.command!.map((a) =>
        a === option(worker.command!, '--nats') ? server.url : a,
      );
      const p = startGroup(command === 'node' ? process.execPath : command!, args, {
        cwd: hostPath(worker, worker.working_dir ?? '/'),
        ...(worker.environment ? { env: worker.environment } : {}),
      });
      started.push(p);
    }
    await Promise.all(started.slice(1).map((p) => p.printed(/serving .*movie_pipeline/, 60_000)));

    const localOut = path.join(dir, 'local');
    const local = resultOf(
      await ndf(['run', WORKFLOW, '--input', JSON.stringify({ outDir: localOut }), '--json']),
    );
    expect(local.status).toBe('succeeded');
    const expected = outputs(local, localOut);

    const runs = ['compose-1', 'compose-2'];
    const results = await Promise.all(
      runs.map(async (runId) => {
        const outDir = path.join(dir, runId);
        const stdout = await ndf([
          'submit',
          WORKFLOW,
          '--nats',
          server.url,
          '--run-id',
          runId,
          '--input',
          JSON.stringify({ outDir }),
          '--wait',
          '--json',
        ]);
        return { runId, outDir, result: resultOf(stdout) };
      }),
    );
    for (const { runId, outDir, result } of results) {
      expect(result.status, runId).toBe('succeeded');
      expect(result.steps.every((s) => s.status === 'completed')).toBe(true);
      expect(outputs(result, outDir)).toEqual(expected);
      const manifest = JSON.parse(readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as {
        runId: string;
        complete: boolean;
        files: unknown[];
      };
      expect(manifest).toMatchObject({ runId, complete: true });
      expect(manifest.files).toHaveLength(12);
      expect(existsSync(path.join(outDir, '_PARTIAL'))).toBe(false);
      // driven to its end by one of the compose workers, once
      const drivers = workers.filter((_, i) => started[i + 1]!.output().includes(`✔ run ${runId} succeeded`));
      expect(drivers, runId).toHaveLength(1);
      console.log(`compose workers: run ${runId} succeeded on ${drivers[0]![0]}`);
    }
  }, 240_000);

  it('stops each worker on SIGTERM (docker compose stop) with exit 0, leaving no process behind', async () => {
    const [, ...running] = started; // the resolver, then the workers
    expect(running).toHaveLength(2);
    for (const p of running) p.signal('SIGTERM');
    expect(await Promise.all(running.map((p) => p.exited))).toEqual([0, 0]);
    for (const [i, [, worker]] of workers.entries()) {
      expect(running[i]!.output()).toContain(`worker ${option(worker.command!, '--id')} stopped`);
      expect(running[i]!.alive()).toBe(false);
    }
  }, 30_000);
});
