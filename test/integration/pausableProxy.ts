/**
 * A TCP proxy in front of a nats-server whose traffic can be held back in both directions: a
 * client behind it sees a partition (its requests get no answer) without a disconnect, as a
 * process paused by the OS or a network that silently drops packets would.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface PausableProxy {
  /** `nats://127.0.0.1:<proxy port>`. */
  readonly url: string;
  /** Holds every byte in both directions until {@link resume}. */
  pause(): void;
  /** Delivers what was held and forwards again. */
  resume(): void;
  close(): Promise<void>;
}

export async function startPausableProxy(targetPort: number): Promise<PausableProxy> {
  let paused = false;
  const pairs = new Set<{ held: Array<() => void>; sockets: Socket[] }>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ port: targetPort, host: '127.0.0.1' });
    const pair = { held: [] as Array<() => void>, sockets: [client, upstream] };
    pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        const send = () => void to.write(chunk);
        if (paused) pair.held.push(send);
        else send();
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `nats://127.0.0.1:${port}`,
    pause: () => void (paused = true),
    resume: () => {
      paused = false;
      for (const pair of pairs) for (const send of pair.held.splice(0)) send();
    },
    close: async () => {
      for (const pair of pairs) for (const s of pair.sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
