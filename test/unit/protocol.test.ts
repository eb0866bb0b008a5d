import { describe, expect, it } from 'vitest';
import type { AgentTask } from '../../src/actors/agent.js';
import { AgentError, PatternValidationError, isPatternValidationError } from '../../src/core/errors.js';
import {
  PROTOCOL_VERSION,
  decodeMessage,
  errorReply,
  protocolSubjects,
  serviceErrorCode,
  taskReplySchema,
  taskRequestSchema,
  toTaskRequest,
} from '../../src/protocol/protocol.js';
import { encodeJson } from '../../src/transport/Transport.js';

const task: AgentTask = {
  runId: 'run-1',
  pattern: 'pipeline',
  step: 'validate',
  capability: 'validate',
  attempt: 2,
  idempotencyKey: 'run-1/validate',
  deadline: 1_800_000_000_000,
  input: { params: { strict: true }, runInput: { file: 'a.csv' }, results: { fetch: [1, 2] } },
  context: { domain: 'data', agentType: 'etl', priority: 2, attributes: { team: 'x' } },
  signal: new AbortController().signal,
};

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('protocol', () => {
  it('round-trips a task request through JSON', () => {
    const request = toTaskRequest(task, 'task', { traceparent: '00-abc-def-01' });
    const decoded = decodeMessage(taskRequestSchema, encodeJson(request), 'req');
    expect(decoded).toEqual({ ...request, version: PROTOCOL_VERSION });
    expect(decoded.deadline).toBe(1_800_000_000_000);
    expect(decoded.trace).toEqual({ traceparent: '00-abc-def-01' });
    expect('signal' in decoded).toBe(false);
  });

  it('names the missing or malformed field', () => {
    const { attempt: _attempt, ...rest } = toTaskRequest(task, 'task');
    const error = errorOf(() => decodeMessage(taskRequestSchema, encodeJson(rest), 'req'));
    expect(isPatternValidationError(error)).toBe(true);
    expect(error.message).toMatch(/req\.attempt/);
    const bad = errorOf(() => decodeMessage(taskRequestSchema, encodeJson({ ...rest, attempt: 0 }), 'req'));
    expect(bad.message).toMatch(/req\.attempt: .*>=1/);
  });

  it('rejects another version, non-JSON and oversized messages with clear errors', () => {
    const v2 = errorOf(() =>
      decodeMessage(taskRequestSchema, encodeJson({ ...toTaskRequest(task, 'task'), version: 2 }), 'req'),
    );
    expect(v2.message).toBe('req: unsupported protocol version 2 (this side speaks version 1)');
    expect((v2 as PatternValidationError).details.field).toBe('req.version');
    expect(
      errorOf(() => decodeMessage(taskRequestSchema, new TextEncoder().encode('{nope'), 'req')).message,
    ).toMatch(/^req: not valid JSON/);
    expect(errorOf(() => decodeMessage(taskRequestSchema, new Uint8Array(2000), 'req', 1000)).message).toBe(
      'req: message of 2000 bytes exceeds the 1000-byte limit',
    );
  });

  it('builds error replies with a retryable flag and a service error code', () => {
    const transient = errorReply(new AgentError('flaky', { retryable: true }));
    const permanent = errorReply(new AgentError('bad input', { retryable: false }));
    const invalid = errorReply(new PatternValidationError('bad'));
    const plain = errorReply(new Error('boom'));
    expect(taskReplySchema.parse(transient)).toEqual(transient);
    for (const [reply, retryable, code] of [
      [transient, true, 503],
      [permanent, false, 500],
      [invalid, false, 400],
      [plain, true, 503],
    ] as const) {
      if (reply.status !== 'error') throw new Error('expected an error reply');
      expect(reply.error.retryable).toBe(retryable);
      expect(serviceErrorCode(reply.error)).toBe(code);
    }
  });

  it('puts every subject under the configured prefix', () => {
    const s = protocolSubjects('acme');
    expect([
      s.task('sum'),
      s.compensate('sum'),
      s.cancel('sum'),
      s.resolver('acquire'),
      s.resolverEvents('x'),
    ]).toEqual([
      'acme.agent.sum.task',
      'acme.agent.sum.compensate',
      'acme.agent.sum.cancel',
      'acme.resolver.acquire',
      'acme.resolver.events.x',
    ]);
  });
});
