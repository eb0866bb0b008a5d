import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, DEFAULT_LOG_LEVEL, defaultLogger, logLevel } from '../../src/core/logger.js';
import { PatternValidationError } from '../../src/core/errors.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createLogger: the one logger factory of the library', () => {
  it('is quiet by default: warn, unless ND_LOG_LEVEL says otherwise', () => {
    expect(DEFAULT_LOG_LEVEL).toBe('warn');
    expect(logLevel({})).toBe('warn');
    expect(logLevel({ ND_LOG_LEVEL: '' })).toBe('warn');
    expect(logLevel({ ND_LOG_LEVEL: 'debug' })).toBe('debug');
    vi.stubEnv('ND_LOG_LEVEL', '');
    expect(createLogger().level).toBe('warn');
    expect(defaultLogger().level).toBe('warn');
    vi.stubEnv('ND_LOG_LEVEL', 'silent');
    expect(createLogger('agent:x').level).toBe('silent');
  });

  it('rejects an ND_LOG_LEVEL that is not a pino level, naming it', () => {
    expect(() => logLevel({ ND_LOG_LEVEL: 'verbose' })).toThrow(PatternValidationError);
    expect(() => logLevel({ ND_LOG_LEVEL: 'verbose' })).toThrow(/ND_LOG_LEVEL/);
  });

  it('names the logger and binds per-run fields on children', () => {
    vi.stubEnv('ND_LOG_LEVEL', 'info');
    const logger = createLogger('resolver');
    expect(logger.bindings()).toEqual({ name: 'resolver' });
    expect(logger.child({ runId: 'r1' }).bindings()).toEqual({ name: 'resolver', runId: 'r1' });
    expect(logger.child({ runId: 'r1' }).level).toBe('info');
  });
});

describe('a caller that reports the same events itself (ndf)', () => {
  it('chooses another fallback level; ND_LOG_LEVEL still wins', () => {
    expect(logLevel({}, 'silent')).toBe('silent');
    expect(logLevel({ ND_LOG_LEVEL: 'warn' }, 'silent')).toBe('warn');
    vi.stubEnv('ND_LOG_LEVEL', '');
    expect(createLogger('ndf', 'silent').level).toBe('silent');
  });
});
