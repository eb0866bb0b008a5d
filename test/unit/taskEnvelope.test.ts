import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandAgent } from '../../src/actors/commandAgent.js';
import { httpAgent } from '../../src/actors/httpAgent.js';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import type { Agent, AgentTask, CompensationTask } from '../../src/core/agent.js';
import { PROTOCOL_VERSION, protocolSubjects, taskRequestSchema } from '../../src/protocol/protocol.js';
import { MemoryTransport } from '../../src/transport/MemoryTransport.js';
import { encodeJson } from '../../src/transport/Transport.js';

/**
 * Command, HTTP and NATS agents all hand the same task envelope to their far side. Each far side
 * here answers with exactly what it received, so an agent's output is the envelope it sent.
 */

const deadline = Date.now() + 60_000;
const task: AgentTask = {
  runId: 'run-7',
  pattern: 'etl',
  step: 'load',
  capability: 'load',
  attempt: 2,
  idempotencyKey: 'run-7/load',
  deadline,
  input: { params: { table: 'orders' }, runInput: { day: '2026-12-04' }, results: { extract: { rows: 3 } } },
  context: { domain: 'data', agentType: 'etl', priority: 2, attributes: { team: 'billing' } },
  signal: new AbortController().signal,
};
const compensation: CompensationTask = {
  ...task,
  idempotencyKey: 'run-7/load/compensate',
  output: { loaded: 3 },
};

const expected = {
  version: PROTOCOL_VERSION,
  kind: 'task',
  runId: 'run-7',
  pattern: 'etl',
  step: 'load',
  capability: 'load',
  attempt: 2,
  idempotencyKey: 'run-7/load',
  deadline,
  input: task.input,
  context: task.context,
  trace: {},
};

const echoStdin = ['node', '-e', 'process.stdin.pipe(process.stdout)'];
let server: Server;
let url = '';
const transport = new MemoryTransport();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => void res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tasks`;
  const subjects = protocolSubjects();
  for (const subject of [subjects.task('mirror'), subjects.compensate('mirror')])
    transport.subscribe(subject, (m) => {
      const received: unknown = JSON.parse(Buffer.from(m.data).toString('utf8'));
      m.respond(encodeJson({ version: PROTOCOL_VERSION, status: 'ok', output: received }));
    });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await transport.close();
});

const agents = (): Record<string, Agent> => ({
  'command (stdin)': createCommandAgent({ id: 'cmd', capabilities: ['load'], command: echoStdin }),
  'command (env)': createCommandAgent({
    id: 'cmd-env',
    capabilities: ['load'],
    command: ['node', '-e', 'process.stdout.write(process.env.NDF_TASK)'],
    taskVia: 'env',
  }),
  http: httpAgent({ id: 'web', url, capabilities: ['load'] }),
  nats: remoteAgent({ transport, name: 'mirror', capabilities: ['load'] }),
});

describe('the one task envelope', () => {
  it.each(['command (stdin)', 'command (env)', 'http', 'nats'])(
    '%s agent sends the protocol envelope for a task',
    async (kind) => {
      const received = await agents()[kind]!.execute(task);
      expect(taskRequestSchema.parse(received)).toEqual(expected);
      expect(received).toEqual(expected);
    },
  );

  it('every agent kind sends the same envelope for a compensation (kind compensate, with the output)', async () => {
    const seen: unknown[] = [];
    const all = agents();
    seen.push(await all['command (stdin)']!.execute(compensation));
    seen.push(await all['command (env)']!.execute(compensation));
    // HTTP and NATS agents send a compensation through `compensate` (which resolves with nothing),
    // so catch what their far side received on the way.
    const http = httpAgent({
      id: 'web',
      url,
      capabilities: ['load'],
      fetch: async (input, init) => {
        seen.push(JSON.parse(init?.body as string));
        return fetch(input, init);
      },
    });
    await http.compensate!(compensation);
    const sub = transport.subscribe(protocolSubjects().compensate('mirror'), (m) =>
      seen.push(JSON.parse(Buffer.from(m.data).toString('utf8'))),
    );
    await agents().nats!.compensate!(compensation);
    sub.unsubscribe();
    const want = {
      ...expected,
      kind: 'compensate',
      idempotencyKey: 'run-7/load/compensate',
      output: { loaded: 3 },
    };
    expect(seen).toHaveLength(4);
    for (const envelope of seen) expect(taskRequestSchema.parse(envelope)).toEqual(want);
  });

  it('a command sees a missing deadline as null, as HTTP and NATS agents do', async () => {
    const { deadline: _none, ...open } = task;
    const received = await agents()['command (stdin)']!.execute(open);
    expect(received).toMatchObject({ deadline: null, kind: 'task' });
  });
});
