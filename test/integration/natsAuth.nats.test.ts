import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import { decodeText, encodeJson, type TransportError } from '../../src/transport/Transport.js';
import { tempDir } from '../helpers/tempDir.js';
import { startNatsServer } from './natsServer.js';

const logger = pino({ level: 'silent' });

describe('NatsTransport connection options', () => {
  it('authenticates with a token and with user/password, and refuses a wrong token', async () => {
    const tokenServer = await startNatsServer({
      jetstream: false,
      control: true,
      args: ['--auth', 's3cret'],
    });
    const userServer = await startNatsServer({
      jetstream: false,
      control: true,
      args: ['--user', 'ndf', '--pass', 'pw'],
    });
    try {
      const byToken = await NatsTransport.connect(
        { servers: tokenServer.url, token: 's3cret', name: 'tok' },
        { logger },
      );
      const byUser = await NatsTransport.connect(
        { servers: userServer.url, user: 'ndf', pass: 'pw' },
        { logger },
      );
      for (const t of [byToken, byUser]) {
        t.subscribe('echo', (m) => m.respond(m.data));
        const reply = await t.request('echo', encodeJson({ ok: true }), { timeoutMs: 2000 });
        expect(JSON.parse(decodeText(reply.data))).toEqual({ ok: true });
        await t.close();
      }
      await expect(
        NatsTransport.connect({ servers: tokenServer.url, token: 'wrong', reconnect: false }, { logger }),
      ).rejects.toThrow(/authorization/i);
    } finally {
      await tokenServer.stop();
      await userServer.stop();
    }
  });

  it('fails a request at once when the user may not publish to its subject', async () => {
    const conf = path.join(tempDir('nd-perm-'), 'nats.conf');
    await writeFile(
      conf,
      'authorization { users = [ { user: ndf, password: pw, permissions: { publish: { deny: ["denied.>"] } } } ] }\n',
    );
    const server = await startNatsServer({ jetstream: false, control: true, args: ['-c', conf] });
    const t = await NatsTransport.connect({ servers: server.url, user: 'ndf', pass: 'pw' }, { logger });
    try {
      const started = Date.now();
      const error = await t.request('denied.task', encodeJson(1), { timeoutMs: 5000 }).then(
        () => undefined,
        (e: TransportError) => e,
      );
      expect(error?.kind).toBe('permission');
      expect(error?.message).toMatch(
        /^NATS refused the publish to denied\.task: .*Permissions Violation for Publish/i,
      );
      expect(Date.now() - started).toBeLessThan(2000);
      t.subscribe('allowed.echo', (m) => m.respond(m.data));
      const reply = await t.request('allowed.echo', encodeJson(2), { timeoutMs: 2000 });
      expect(JSON.parse(decodeText(reply.data))).toBe(2);
    } finally {
      await t.close();
      await server.stop();
    }
  });

  it('names a malformed option', async () => {
    await expect(
      NatsTransport.connect({ servers: 'nats://127.0.0.1:1', reconnectTimeWaitMs: -5 }),
    ).rejects.toThrow(/NatsTransport options\.reconnectTimeWaitMs/);
    await expect(
      NatsTransport.connect({ servers: 'nats://127.0.0.1:1', inboxPrefix: '_INBOX.>' }),
    ).rejects.toThrow(/NatsTransport options\.inboxPrefix: subject tokens/);
  });
});
