import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ResultsLog } from '../../src/runtime/ResultsLog.js';

describe('ResultsLog views (input.results)', () => {
  it('a view shows the outputs recorded before it was taken, and no later one', () => {
    const log = new ResultsLog();
    log.record('a', 1);
    const early = log.current();
    log.record('b', { n: 2 });
    log.record('a', 3);
    const late = log.current();
    expect(early['a']).toBe(1);
    expect(early['b']).toBeUndefined();
    expect('b' in early).toBe(false);
    expect(Object.keys(early)).toEqual(['a']);
    expect(JSON.stringify(early)).toBe('{"a":1}');
    expect(late['a']).toBe(3);
    expect('b' in late).toBe(true);
    expect({ ...late }).toEqual({ a: 3, b: { n: 2 } });
    expect(late).toEqual({ a: 3, b: { n: 2 } });
    // the earlier view still answers the same after the later one was enumerated
    expect(early['a']).toBe(1);
    expect(early).toEqual({ a: 1 });
  });

  it('is the same object until the next record', () => {
    const log = new ResultsLog();
    log.record('a', 1);
    expect(log.current()).toBe(log.current());
    const before = log.current();
    log.record('b', 2);
    expect(log.current()).not.toBe(before);
  });

  it('is frozen: writes, deletes and new keys throw in strict mode, before and after enumeration', () => {
    const log = new ResultsLog();
    log.record('a', 1);
    const fresh = log.current() as Record<string, unknown>;
    expect(() => {
      fresh['a'] = 2;
    }).toThrow(TypeError);
    const other = new ResultsLog();
    other.record('a', 1);
    const view = other.current() as Record<string, unknown>;
    expect(() => {
      view['z'] = 2;
    }).toThrow(TypeError);
    expect(() => delete view['a']).toThrow(TypeError);
    expect(Object.isFrozen(view)).toBe(true);
    expect(view['a']).toBe(1);
    expect(Object.keys(view)).toEqual(['a']);
  });

  it('inherits from Object.prototype and prints its contents', () => {
    const log = new ResultsLog();
    log.record('extract', [1, 2]);
    const view = log.current();
    expect(Object.prototype.hasOwnProperty.call(view, 'extract')).toBe(true);
    expect(typeof view.toString).toBe('function');
    expect(inspect(view)).toBe('{ extract: [ 1, 2 ] }');
  });
});
