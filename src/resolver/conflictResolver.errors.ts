/** The errors that the lock table's effects (rejections, revocations) become for waiters and holders. */
import { ResourceExhaustionError, type PatternError } from '../core/errors.js';
import type { LockEffect } from './lockTypes.js';

/**
 * Turns a rejection or revocation into the error its waiter or holder sees: a
 * ResourceExhaustionError, with `details.cycle` for a deadlock; retryable except for a rejection on
 * `ordering` or `duplicate`.
 */
export function effectError(effect: LockEffect): PatternError {
  const cycle = effect.type === 'rejected' ? effect.cycle : undefined;
  const message = effect.type === 'granted' ? 'granted' : effect.message;
  return new ResourceExhaustionError(message, {
    retryable: effect.type !== 'rejected' || (effect.reason !== 'ordering' && effect.reason !== 'duplicate'),
    ...(cycle ? { cycle } : {}),
  });
}
