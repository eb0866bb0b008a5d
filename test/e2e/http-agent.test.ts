import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndf, parseJsonl } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';

let server: Server;
let url = '';
const received: {
  key: string | undefined;
  auth: string | undefined;
  step: string;
  attempt: number;
  results: unknown;
}[] = [];
let failuresLeft = 0;

beforeAll(async () => {
  // An endpoint that upper-cases its params; answers 503 while `failuresLeft` > 0.
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const task = JSON.parse(body) as {
        step: string;
        attempt: number;
        input: { params: string; results: unknown };
      };
      received.push({
        key: req.headers['idempotency-key'] as string | undefined,
        auth: req.headers.authorization,
        step: task.step,
        attempt: task.attempt,
        results: task.input.results,
      });
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        return void res.writeHead(503).end('warming up');
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(task.input.params.toUpperCase()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tasks`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const workflow = (endpoint: string) => `version: 1
name: over-http
agents:
  upper:
    kind: http
    url: ${endpoint}
    headers: { authorization: Bearer s3cret }
    capabilities: [shout]
    timeoutMs: 5000
patterns:
  loud:
    type: sequential
    steps:
      - name: shout
        input: hello over http
        retry: { maxAttempts: 3, backoff: { initialDelayMs: 10 } }
      - name: again
        capability: shout
        input: and again
run:
  pattern: loud
`;

describe('`kind: http` agents in ndf run', () => {
  it('performs the step on the endpoint, retrying a 503 with the same idempotency key', async () => {
    const file = path.join(tempDir('ndf-http-'), 'http.yaml');
    await writeFile(file, workflow(url));
    received.length = 0;
    failuresLeft = 1;
    const run = await ndf(['run', file, '--json']);
    expect(run.code).toBe(0);
    const last = parseJsonl(run.stdout).at(-1) as {
      result: {
        success: boolean;
        steps: { name: string; agent: string; status: string; output: unknown; attempts: number }[];
      };
    };
    expect(last.result.success).toBe(true);
    expect(last.result.steps).toEqual([
      expect.objectContaining({ name: 'shout', agent: 'upper', status: 'completed', attempts: 2 }),
      expect.objectContaining({ name: 'again', agent: 'upper', status: 'completed', attempts: 1 }),
    ]);
    expect(received.map((r) => [r.step, r.attempt])).toEqual([
      ['shout', 1],
      ['shout', 2],
      ['again', 1],
    ]);
    // both attempts of a step carry its idempotency key; the endpoint's answer became its output
    expect(received[0]?.key).toMatch(/^".*\/shout"$/);
    expect(received.every((r) => r.auth === 'Bearer s3cret')).toBe(true);
    expect(received[1]?.key).toBe(received[0]?.key);
    expect(received[2]?.results).toEqual({ shout: 'HELLO OVER HTTP' });
  });
});
