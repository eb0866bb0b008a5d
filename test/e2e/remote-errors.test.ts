import { describe, expect, it } from 'vitest';
import { ndf } from './cli.js';

// Port 1 on loopback: nothing listens there, the connection is refused at once.
const DOWN = 'nats://127.0.0.1:1';

describe.concurrent('remote commands refuse bad input with one line and exit 2', () => {
  const cases: [string, string[], string][] = [
    [
      'agents, server down',
      ['agents', '--nats', DOWN],
      `ndf agents: --nats: cannot connect to ${DOWN}: connection refused`,
    ],
    [
      'agents, bad URL',
      ['agents', '--nats', 'http://x:y:z'],
      'ndf agents: --nats: cannot connect to http://x:y:z: Invalid URL',
    ],
    [
      'agents, bad --timeout',
      ['agents', '--nats', DOWN, '--timeout', 'abc'],
      'ndf agents: --timeout: expected a positive whole number, got "abc"',
    ],
    [
      'resolver, server down',
      ['resolver', '--nats', DOWN],
      `ndf resolver: --nats: cannot connect to ${DOWN}: connection refused`,
    ],
    [
      'agent, server down',
      ['agent', '--nats', DOWN, '--name', 'ok', '--capabilities', 'x', '--exec', 'cat'],
      `ndf agent: --nats: cannot connect to ${DOWN}: connection refused`,
    ],
    [
      'agent, bad --name',
      ['agent', '--nats', DOWN, '--name', 'bad.name', '--capabilities', 'x', '--exec', 'cat'],
      'ndf agent: --name: "bad.name" may hold only letters, digits, - and _',
    ],
    [
      'agent, missing --exec binary',
      ['agent', '--nats', DOWN, '--name', 'ok', '--capabilities', 'x', '--exec', 'no-such-binary'],
      'ndf agent: --exec: command "no-such-binary" not found (looked in PATH)',
    ],
    [
      'agent, bad --timeout',
      ['agent', '--nats', DOWN, '--name', 'ok', '--capabilities', 'x', '--timeout', 'abc', '--exec', 'cat'],
      'ndf agent: --timeout: expected a whole number of ms, got "abc"',
    ],
    [
      'agent, bad --max-concurrent',
      [
        'agent',
        '--nats',
        DOWN,
        '--name',
        'ok',
        '--capabilities',
        'x',
        '--max-concurrent',
        '0',
        '--exec',
        'cat',
      ],
      'ndf agent: --max-concurrent: expected a positive whole number, got "0"',
    ],
  ];
  for (const [title, args, line] of cases) {
    it(title, async () => {
      const result = await ndf(args);
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe(line);
      expect(result.stdout).toBe('');
    });
  }
});
