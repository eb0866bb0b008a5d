import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsServer, type NatsServer } from '../integration/natsServer.js';
import { ndf, parseJsonl } from './cli.js';

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
});
afterAll(async () => {
  await server?.stop();
});

/** Without an ND_LOG_LEVEL from the test runner's environment. */
const env = { ND_LOG_LEVEL: undefined };

describe('logs: quiet by default, --log-level / ND_LOG_LEVEL when asked', () => {
  it('ndf agents writes nothing on stderr by default', async () => {
    const result = await ndf(['agents', '--nats', server.url], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no agents found');
    expect(result.stderr).toBe('');
  });

  it('--log-level info shows the connection as JSON lines', async () => {
    const result = await ndf(['--log-level', 'info', 'agents', '--nats', server.url], { env });
    expect(result.code).toBe(0);
    const lines = parseJsonl(result.stderr);
    expect(lines.map((l) => [l['level'], l['msg']])).toContainEqual([30, 'nats connected']);
  });

  it('ND_LOG_LEVEL=info does the same; an unknown level is bad input', async () => {
    const info = await ndf(['agents', '--nats', server.url], { env: { ND_LOG_LEVEL: 'info' } });
    expect(parseJsonl(info.stderr).map((l) => l['msg'])).toContain('nats connected');
    const bad = await ndf(['--log-level', 'loud', 'agents', '--nats', server.url], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--log-level <level>' argument 'loud' is invalid");
  });
});
