import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import { startNatsServer, type NatsServer } from '../integration/natsServer.js';
import { startNdf } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { alive, pidWritten, until } from '../helpers/processes.js';

/**
 * `ndf agent --exec` children do not outlive the agent: SIGTERM, SIGHUP (orderly stop) and
 * SIGKILL (the watchdog). The command is `sh -c '…'`, which also shows that --exec takes
 * arguments starting with `-` after `--`.
 */

let server: NatsServer;
let transport: NatsTransport;
beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
  transport = await NatsTransport.connect({ servers: server.url }, { logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await transport?.close();
  await server?.stop();
});

// The command and the child it starts record their pids, then sleep; `late` would mean one survived.
const SCRIPT = [
  'cat > /dev/null',
  'echo $$ > "$MARK_DIR/cmd.pid"',
  '(sleep 30; echo late > "$MARK_DIR/late") &',
  'echo $! > "$MARK_DIR/child.pid"',
  'sleep 30',
].join('\n');

async function serveAndStartTask(name: string) {
  const dir = tempDir('ndf-agent-signals-');
  const agent = startNdf(
    [
      'agent',
      '--nats',
      server.url,
      '--name',
      name,
      '--capabilities',
      'hold',
      '--exec',
      '--',
      'sh',
      '-c',
      SCRIPT,
    ],
    { env: { MARK_DIR: dir, NDF_KILL_GRACE_MS: '500' } },
  );
  await agent.printed(/serving hold/);
  const caller = remoteAgent({ transport, name, capabilities: ['hold'], timeoutMs: 20_000 });
  const outcome = caller
    .execute({
      runId: 'e2e',
      pattern: 'p',
      step: 'hold',
      capability: 'hold',
      attempt: 1,
      idempotencyKey: 'e2e/hold',
      input: { params: null, runInput: null, results: {} },
      context: { domain: 'general', agentType: 'general', priority: 1, attributes: {} },
      signal: new AbortController().signal,
    })
    .catch((error: Error) => error.message);
  const pidFile = (f: string) => path.join(dir, `${f}.pid`);
  await until(() => pidWritten(pidFile('child')), 10_000, 'the command starts');
  const pids = ['cmd', 'child'].map((f) => Number(readFileSync(pidFile(f), 'utf8').trim()));
  expect(pids.every(alive)).toBe(true);
  return { dir, agent, outcome, pids };
}

describe('ndf agent --exec and signals', () => {
  it.each(['SIGTERM', 'SIGHUP'] as const)(
    '%s stops the agent and kills the running command with its child',
    async (signal) => {
      const { dir, agent, outcome, pids } = await serveAndStartTask(`holder-${signal.toLowerCase()}`);
      agent.child.kill(signal);
      expect(await agent.exited).toBe(0);
      expect(pids.filter(alive)).toEqual([]);
      expect(agent.errors()).toContain(`${signal}: stopping the agent`);
      expect(await outcome).toEqual(expect.any(String)); // the caller sees the task fail
      expect(existsSync(path.join(dir, 'late'))).toBe(false);
    },
  );

  it('SIGKILL of the agent: its watchdog kills the running command with its child', async () => {
    const { agent, pids } = await serveAndStartTask('holder-kill');
    agent.child.kill('SIGKILL');
    await agent.exited;
    // Generous: on a loaded machine the watchdog's node may still be starting up.
    await until(() => pids.every((pid) => !alive(pid)), 10_000, 'the command dies after the agent');
  });

  it('rejects arguments without --exec, and --exec without a command', async () => {
    const stray = startNdf(['agent', '--nats', server.url, '--name', 'x', '--capabilities', 'y', '--', 'sh']);
    expect(await stray.exited).toBe(2);
    expect(stray.errors()).toContain('ndf agent: unexpected arguments ["sh"]: a command goes after --exec');
    const empty = startNdf(['agent', '--nats', server.url, '--name', 'x', '--capabilities', 'y', '--exec']);
    expect(await empty.exited).toBe(2);
    expect(empty.errors()).toContain('ndf agent: --exec: give the command to run');
  });
});
