import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../integration/natsServer.js';
import { tempDir } from '../helpers/tempDir.js';
import { ndf, NDF_BIN, parseJsonl, ROOT } from './cli.js';

/**
 * NATS credentials in the CLI (issue 9): flags or their variables for `ndf run --nats` and the
 * remote commands, `tokenEnv`/`user`+`passwordEnv` in a workflow file, one-line refusals (exit 2)
 * with the credentials redacted, and `--exec` children without the NATS_* variables.
 */

const TOKEN = 's3cr3tTOKEN';
let tokenServer: NatsServer;
let userServer: NatsServer;
let agent: ChildProcessWithoutNullStreams;
/** No NATS_* variable of the test's own environment may leak into a case. */
const clean = { NATS_URL: undefined, NATS_TOKEN: undefined, NATS_USER: undefined, NATS_PASSWORD: undefined };

/** `ndf agent` on the token server, configured only through NATS_URL and NATS_TOKEN. */
function serveProbe(url: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(
    process.execPath,
    [
      NDF_BIN,
      'agent',
      '--name',
      'probe',
      '--capabilities',
      'probe',
      '--exec',
      process.execPath,
      `${ROOT}/test/e2e/remote/envProbe.mjs`,
    ],
    { env: { ...process.env, NATS_URL: url, NATS_TOKEN: TOKEN, NATS_EXTRA_SETTING: 'kept' } },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`ndf agent did not start: ${out}`)), 20_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (!/serving probe/.test(out)) return;
      clearTimeout(timer);
      resolve(child);
    });
  });
}

beforeAll(async () => {
  tokenServer = await startNatsServer({ jetstream: false, control: true, args: ['--auth', TOKEN] });
  userServer = await startNatsServer({
    jetstream: false,
    control: true,
    args: ['--user', 'ndf', '--pass', 'pw'],
  });
  agent = await serveProbe(tokenServer.url);
}, 60_000);
afterAll(async () => {
  agent?.kill('SIGTERM');
  await tokenServer?.stop();
  await userServer?.stop();
});

const steps = `patterns:
  p:
    type: sequential
    steps:
      - name: probe
run:
  pattern: p
`;

async function workflow(agents: string): Promise<string> {
  const file = path.join(tempDir('ndf-auth-'), 'wf.yaml');
  await writeFile(file, `version: 1\nname: auth\nagents:${agents}\n${steps}`);
  return file;
}

function output(stdout: string): unknown {
  const last = parseJsonl(stdout).at(-1) as { result: { steps: { output: unknown }[] } };
  return last.result.steps[0]?.output;
}

function expectOneLineRefusal(run: { code: number | null; stderr: string }, secret: string): void {
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toContain(secret);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe('NATS credentials in the CLI', () => {
  it('run --nats takes the token from $NATS_TOKEN; the --exec child does not inherit it', async () => {
    const file = await workflow(' {}');
    const run = await ndf(['run', file, '--nats', tokenServer.url, '--json'], {
      env: { ...clean, NATS_TOKEN: TOKEN },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // NATS_URL and NATS_TOKEN were removed; other NATS_* variables are passed on
    expect(output(run.stdout)).toEqual({ natsEnv: ['NATS_EXTRA_SETTING'], token: null });
    const byFlag = await ndf(['run', file, '--nats', tokenServer.url, '--token', TOKEN, '--json'], {
      env: clean,
    });
    expect(byFlag.code).toBe(0);
  });

  it('a refused or missing token is one line, exit 2, with the URL credentials redacted', async () => {
    const file = await workflow(' {}');
    const none = await ndf(['run', file, '--nats', tokenServer.url], { env: clean });
    expectOneLineRefusal(none, TOKEN);
    expect(none.stderr).toContain(
      `--nats: cannot discover agents at ${tokenServer.url}: Authorization Violation`,
    );
    const wrongUrl = tokenServer.url.replace('nats://', 'nats://wr0ngTOKEN@');
    const inUrl = await ndf(['run', file, '--nats', wrongUrl], { env: clean });
    expectOneLineRefusal(inUrl, 'wr0ngTOKEN');
    expect(inUrl.stderr).toContain(`cannot discover agents at nats://***@127.0.0.1:${tokenServer.port}`);
    const agents = await ndf(['agents', '--nats', wrongUrl], { env: clean });
    expectOneLineRefusal(agents, 'wr0ngTOKEN');
    expect(agents.stderr).toMatch(
      /^ndf agents: --nats: cannot connect to nats:\/\/\*\*\*@127\.0\.0\.1:\d+: Authorization Violation\n$/,
    );
    const flagged = await ndf(['run', file, '--nats', tokenServer.url, '--token', 'wr0ngTOKEN'], {
      env: clean,
    });
    expectOneLineRefusal(flagged, 'wr0ngTOKEN');
  });

  it('ndf agents logs in with --user and $NATS_PASSWORD (or $NATS_URL/$NATS_USER); a wrong password is exit 2', async () => {
    const ok = await ndf(['agents', '--nats', userServer.url, '--user', 'ndf', '--json'], {
      env: { ...clean, NATS_PASSWORD: 'pw' },
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([]);
    const byEnv = await ndf(['agents', '--json'], {
      env: { ...clean, NATS_URL: userServer.url, NATS_USER: 'ndf', NATS_PASSWORD: 'pw' },
    });
    expect(byEnv.code).toBe(0);
    const wrong = await ndf(['agents', '--nats', userServer.url, '--user', 'ndf'], {
      env: { ...clean, NATS_PASSWORD: 'bad-password' },
    });
    expectOneLineRefusal(wrong, 'bad-password');
    expect(wrong.stderr).toContain('Authorization Violation');
    const noPassword = await ndf(['agents', '--nats', userServer.url, '--user', 'ndf'], { env: clean });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toBe('ndf agents: --user needs --password (or $NATS_PASSWORD)\n');
  });

  it('a kind: nats agent of the file takes its token from the variable tokenEnv names', async () => {
    const file = await workflow(`
  probe:
    kind: nats
    servers: ${tokenServer.url}
    capabilities: [probe]
    tokenEnv: PROBE_TOKEN`);
    const run = await ndf(['run', file, '--json'], { env: { ...clean, PROBE_TOKEN: TOKEN } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(output(run.stdout)).toEqual({ natsEnv: ['NATS_EXTRA_SETTING'], token: null });
    const unset = await ndf(['run', file], { env: { ...clean, PROBE_TOKEN: undefined } });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('agents.probe.tokenEnv: $PROBE_TOKEN is not set');
    // NATS_TOKEN is not used unless the file names it: a file cannot send your token elsewhere
    const implicit = await ndf(['run', file, '--json'], {
      env: { ...clean, NATS_TOKEN: TOKEN, PROBE_TOKEN: 'wr0ngTOKEN' },
    });
    expect(implicit.code).toBe(2);
    expect(implicit.stderr).toMatch(
      /agents\.probe\.servers: cannot connect to NATS at .*: Authorization Violation/,
    );
    expect(implicit.stderr).not.toContain('wr0ngTOKEN');
    expect(implicit.stderr).not.toMatch(/\n\s+at /);
  });

  it('an HTTP agent URL with user:pass@ is redacted in the summary, --json lines and the trace', async () => {
    const dir = tempDir('ndf-redact-');
    const file = path.join(dir, 'wf.yaml');
    await writeFile(
      file,
      `version: 1\nname: redact\nagents:\n  web:\n    kind: http\n    url: http://alice:hunter22@127.0.0.1:9/tasks\n    capabilities: [probe]\n${steps}`,
    );
    const trace = path.join(dir, 'trace.jsonl');
    const human = await ndf(['run', file, '--no-progress', '--trace', trace], { env: clean });
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('alice:***@127.0.0.1:9');
    for (const text of [human.stdout, human.stderr, await readFile(trace, 'utf8')])
      expect(text).not.toContain('hunter22');
    const json = await ndf(['run', file, '--json'], { env: clean });
    expect(json.stdout).toContain('alice:***@');
    expect(json.stdout).not.toContain('hunter22');
    const plan = await ndf(['run', file, '--dry-run'], { env: clean });
    expect(plan.stdout).toContain('http://alice:***@127.0.0.1:9/tasks');
  });
});
