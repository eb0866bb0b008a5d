import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** `$NATS_SERVER_BIN`, else `nats-server` on PATH, else /usr/sbin/nats-server; undefined when none exists. */
function findBinary(): string | undefined {
  const candidates = [
    process.env['NATS_SERVER_BIN'],
    ...(process.env['PATH'] ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'nats-server')),
    '/usr/sbin/nats-server',
  ];
  return candidates.find((c): c is string => c !== undefined && existsSync(c));
}

/** A private nats-server process started by a test. */
export interface NatsServer {
  readonly url: string;
  readonly port: number;
  /** Kills the process (SIGKILL: no goodbye to clients). */
  kill(): Promise<void>;
  /** Starts it again on the same port and store directory. */
  restart(): Promise<void>;
  /** Kills it and removes its store. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitListening(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until)
      throw new Error(`nats-server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts `nats-server -p <free port> -js -sd <tmpdir>` (binary: `$NATS_SERVER_BIN`, PATH, or
 * /usr/sbin/nats-server). Without a binary, a test that does not control the server uses
 * `$NATS_URL`; otherwise this throws a clear error (these tests never skip).
 */
export async function startNatsServer(
  options: {
    jetstream?: boolean;
    args?: readonly string[];
    /** The test kills/restarts the server or needs `args`: an external `$NATS_URL` will not do. */
    control?: boolean;
  } = {},
): Promise<NatsServer> {
  const binary = findBinary();
  const external = process.env['NATS_URL'];
  if (!binary && external && !options.control) {
    const refuse = () => Promise.reject(new Error(`cannot kill or restart the external server ${external}`));
    return {
      url: external,
      port: Number(new URL(external).port || 4222),
      kill: refuse,
      restart: refuse,
      stop: async () => undefined,
    };
  }
  if (!binary) {
    throw new Error(
      'nats-server not found ($NATS_SERVER_BIN, PATH, /usr/sbin/nats-server)' +
        (options.control
          ? '; this test starts, kills and restarts its own server'
          : ' and $NATS_URL is not set') +
        ': install nats-server (https://docs.nats.io/running-a-nats-service/introduction/installation)',
    );
  }
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'nd-nats-'));
  const args = ['-a', '127.0.0.1', '-p', String(port)];
  if (options.jetstream ?? true) args.push('-js', '-sd', storeDir);
  args.push(...(options.args ?? []));
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitListening(port, 5000);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${output}`);
    }
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    kill,
    restart: start,
    stop: async () => {
      await kill();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
