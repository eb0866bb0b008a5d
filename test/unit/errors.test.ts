import { describe, expect, it } from 'vitest';
import {
  AgentError,
  CircuitOpenError,
  ConfidenceThresholdError,
  ErrorCode,
  InvalidPatternError,
  NoCapableAgentError,
  PatternAlreadyExistsError,
  PatternError,
  PatternExecutionError,
  PatternNotFoundError,
  PatternTimeoutError,
  PatternValidationError,
  ResourceExhaustionError,
  createError,
  errorFromJSON,
  isAgentError,
  isCircuitOpenError,
  isConfidenceThresholdError,
  isInvalidPatternError,
  isNoCapableAgentError,
  isPatternAlreadyExistsError,
  isPatternError,
  isPatternExecutionError,
  isPatternNotFoundError,
  isPatternValidationError,
  isResourceExhaustionError,
  isTimeoutError,
  serializedError,
  toSerializedError,
  type ErrorDetails,
  type SerializedError,
} from '../../src/core/errors.js';
import { TimeoutError } from '../../src/index.js';

type Guard = (error: unknown) => boolean;

interface Case {
  readonly make: (message: string, details: ErrorDetails) => PatternError;
  readonly ctor: abstract new (...args: never[]) => PatternError;
  readonly name: string;
  readonly code: ErrorCode;
  readonly guard: Guard;
}

const cases: Case[] = [
  {
    make: (m, d) => new PatternError(m, { details: d }),
    ctor: PatternError,
    name: 'PatternError',
    code: 'ND_PATTERN_ERROR',
    guard: isPatternError,
  },
  {
    make: (m, d) => new PatternNotFoundError(m, d),
    ctor: PatternNotFoundError,
    name: 'PatternNotFoundError',
    code: 'ND_PATTERN_NOT_FOUND',
    guard: isPatternNotFoundError,
  },
  {
    make: (m, d) => new PatternExecutionError(m, d),
    ctor: PatternExecutionError,
    name: 'PatternExecutionError',
    code: 'ND_PATTERN_EXECUTION',
    guard: isPatternExecutionError,
  },
  {
    make: (m, d) => new NoCapableAgentError(m, d),
    ctor: NoCapableAgentError,
    name: 'NoCapableAgentError',
    code: 'ND_NO_CAPABLE_AGENT',
    guard: isNoCapableAgentError,
  },
  {
    make: (m, d) => new ConfidenceThresholdError(m, d),
    ctor: ConfidenceThresholdError,
    name: 'ConfidenceThresholdError',
    code: 'ND_CONFIDENCE_THRESHOLD',
    guard: isConfidenceThresholdError,
  },
  {
    make: (m, d) => new ResourceExhaustionError(m, d),
    ctor: ResourceExhaustionError,
    name: 'ResourceExhaustionError',
    code: 'ND_RESOURCE_EXHAUSTED',
    guard: isResourceExhaustionError,
  },
  {
    make: (m, d) => new PatternValidationError(m, d),
    ctor: PatternValidationError,
    name: 'PatternValidationError',
    code: 'ND_PATTERN_VALIDATION',
    guard: isPatternValidationError,
  },
  {
    make: (m, d) => new PatternAlreadyExistsError(m, d),
    ctor: PatternAlreadyExistsError,
    name: 'PatternAlreadyExistsError',
    code: 'ND_PATTERN_ALREADY_EXISTS',
    guard: isPatternAlreadyExistsError,
  },
  {
    make: (m, d) => new InvalidPatternError(m, d),
    ctor: InvalidPatternError,
    name: 'InvalidPatternError',
    code: 'ND_INVALID_PATTERN',
    guard: isInvalidPatternError,
  },
  {
    make: (m, d) => new PatternTimeoutError(m, d),
    ctor: PatternTimeoutError,
    name: 'TimeoutError',
    code: 'ND_TIMEOUT',
    guard: isTimeoutError,
  },
  {
    make: (m, d) => new CircuitOpenError(m, d),
    ctor: CircuitOpenError,
    name: 'CircuitOpenError',
    code: 'ND_CIRCUIT_OPEN',
    guard: isCircuitOpenError,
  },
  {
    make: (m, d) => new AgentError(m, d),
    ctor: AgentError,
    name: 'AgentError',
    code: 'ND_AGENT_ERROR',
    guard: isAgentError,
  },
];

const details: ErrorDetails = {
  patternName: 'flow',
  step: 'validate',
  agentId: 'agent-1',
  capabilities: ['a', 'b'],
  cycle: ['x', 'y', 'x'],
  field: 'steps[0]',
  timeoutMs: 1500,
  retryAt: 123_456,
  retryable: false,
  confidence: 0.4,
  threshold: 0.7,
};

describe('ErrorCode', () => {
  it('has one distinct code per class', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.sort()).toEqual(cases.map((c) => c.code).sort());
  });
});

describe.each(cases)('$name', ({ make, ctor, name, code, guard }) => {
  it('has its name, stable code, message and details', () => {
    const error = make('boom', details);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(PatternError);
    expect(error).toBeInstanceOf(ctor);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.message).toBe('boom');
    expect(error.details).toEqual(details);
  });

  it('serialises with toJSON', () => {
    expect(make('boom', details).toJSON()).toEqual({ name, code, message: 'boom', details });
  });

  it('round-trips through JSON and errorFromJSON into the same class', () => {
    const wire = JSON.parse(JSON.stringify(make('over the wire', details))) as SerializedError;
    const rebuilt = errorFromJSON(wire);
    expect(rebuilt).toBeInstanceOf(ctor);
    expect(rebuilt.name).toBe(name);
    expect(rebuilt.code).toBe(code);
    expect(rebuilt.message).toBe('over the wire');
    expect(rebuilt.details).toEqual(details);
  });

  it('is recognised by its guard, on the original, the rebuilt error and the bare JSON', () => {
    const original = make('x', {});
    const json = original.toJSON();
    expect(guard(original)).toBe(true);
    expect(guard(errorFromJSON(json))).toBe(true);
    expect(guard(json)).toBe(true);
    expect(isPatternError(errorFromJSON(json))).toBe(true);
  });

  it('is not recognised by the guards of unrelated classes', () => {
    const rebuilt = errorFromJSON(make('x', {}).toJSON());
    const related = (other: Case) =>
      other.code === code ||
      other.guard === isPatternError ||
      (other.guard === isPatternExecutionError && code === 'ND_NO_CAPABLE_AGENT');
    for (const other of cases.filter((c) => !related(c))) expect(other.guard(rebuilt)).toBe(false);
  });
});

describe('error specifics', () => {
  it('keeps the cause', () => {
    const cause = new Error('root');
    expect(new PatternError('m', { cause }).cause).toBe(cause);
    expect(new PatternNotFoundError('m', {}, cause).cause).toBe(cause);
    expect(new PatternExecutionError('m', {}, cause).cause).toBe(cause);
    expect(new PatternValidationError('m', {}, cause).cause).toBe(cause);
    expect(new AgentError('m', {}, cause).cause).toBe(cause);
    expect(new PatternError('m').cause).toBeUndefined();
  });

  it('defaults details to an empty object and the base code to ND_PATTERN_ERROR', () => {
    const error = new PatternError('m');
    expect(error.details).toEqual({});
    expect(error.code).toBe('ND_PATTERN_ERROR');
  });

  it('NoCapableAgentError is a PatternExecutionError (class and guard)', () => {
    const error = new NoCapableAgentError('none', { step: 's' });
    expect(error).toBeInstanceOf(PatternExecutionError);
    expect(isPatternExecutionError(error)).toBe(true);
    expect(isPatternExecutionError(errorFromJSON(error.toJSON()))).toBe(true);
  });

  it('TimeoutError is the exported alias of PatternTimeoutError', () => {
    expect(TimeoutError).toBe(PatternTimeoutError);
    expect(new TimeoutError('late', { timeoutMs: 5 }).name).toBe('TimeoutError');
  });
});

describe('the error factory', () => {
  it.each(cases)(
    'createError($code) builds $name, and serializedError round-trips through errorFromJSON',
    (c) => {
      const made = createError(c.code, 'made', details);
      expect(made).toBeInstanceOf(c.ctor);
      expect([made.name, made.code, made.message, made.details]).toEqual([c.name, c.code, 'made', details]);

      const json = serializedError(c.code, 'sent', details);
      expect(json).toEqual({ name: c.name, code: c.code, message: 'sent', details });
      const rebuilt = errorFromJSON(JSON.parse(JSON.stringify(json)) as SerializedError);
      expect(rebuilt).toBeInstanceOf(c.ctor);
      expect(toSerializedError(rebuilt)).toEqual(json);
      expect(c.guard(json)).toBe(true);
    },
  );

  it('leaves details out of the JSON when none are given', () => {
    expect(serializedError(ErrorCode.TIMEOUT, 'late')).toEqual({
      name: 'TimeoutError',
      code: 'ND_TIMEOUT',
      message: 'late',
    });
  });
});

describe('errorFromJSON', () => {
  it('turns an unknown code into a plain PatternError keeping the message', () => {
    const error = errorFromJSON({ name: 'Weird', code: 'ND_SOMETHING_NEW', message: 'hello' });
    expect(error.constructor).toBe(PatternError);
    expect(error.code).toBe('ND_PATTERN_ERROR');
    expect(error.message).toBe('hello');
  });

  it('accepts a serialised error without details', () => {
    const error = errorFromJSON({ name: 'AgentError', code: 'ND_AGENT_ERROR', message: 'm' });
    expect(error).toBeInstanceOf(AgentError);
    expect(error.details).toEqual({});
  });
});

describe('toSerializedError', () => {
  it('uses toJSON for pattern errors', () => {
    expect(toSerializedError(new CircuitOpenError('open', { agentId: 'a', retryAt: 5 }))).toEqual({
      name: 'CircuitOpenError',
      code: 'ND_CIRCUIT_OPEN',
      message: 'open',
      details: { agentId: 'a', retryAt: 5 },
    });
  });

  it('maps other errors to ND_AGENT_ERROR keeping name and message', () => {
    expect(toSerializedError(new RangeError('bad range'))).toEqual({
      name: 'RangeError',
      code: 'ND_AGENT_ERROR',
      message: 'bad range',
    });
  });

  it('keeps name, code and details of an object carrying one of our codes (an error that crossed a boundary)', () => {
    const foreign = {
      name: 'CircuitOpenError',
      code: 'ND_CIRCUIT_OPEN',
      message: 'open',
      details: { retryAt: 9 },
    };
    expect(toSerializedError(foreign)).toEqual(foreign);
    const plain = Object.assign(new Error('late'), { code: 'ND_TIMEOUT' });
    expect(toSerializedError(plain)).toEqual({ name: 'Error', code: 'ND_TIMEOUT', message: 'late' });
  });

  it("maps Node's own error codes (ENOENT…) to ND_AGENT_ERROR", () => {
    const missing = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(toSerializedError(missing)).toEqual({
      name: 'Error',
      code: 'ND_AGENT_ERROR',
      message: 'no such file',
    });
  });

  it('uses the message of a thrown plain object', () => {
    expect(toSerializedError({ message: 'plain' })).toEqual({
      name: 'Error',
      code: 'ND_AGENT_ERROR',
      message: 'plain',
    });
  });

  it('maps thrown non-errors to ND_AGENT_ERROR with their string form', () => {
    expect(toSerializedError('oops')).toEqual({ name: 'Error', code: 'ND_AGENT_ERROR', message: 'oops' });
    expect(toSerializedError(42)).toEqual({ name: 'Error', code: 'ND_AGENT_ERROR', message: '42' });
  });
});

describe('guards on non-errors', () => {
  it.each([null, undefined, 'ND_TIMEOUT', 42, {}, { code: 'NOPE' }, new Error('x')])(
    '%s is no pattern error',
    (value) => {
      expect(isPatternError(value)).toBe(false);
      expect(isTimeoutError(value)).toBe(false);
    },
  );
});
