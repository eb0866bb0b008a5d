/** Always-valid A/B testing: pure statistics (no I/O, no clock). */
export { emptyArm, addOutcome, armSuccessRate, armResponseVariance } from './armStats.js';
export type { ArmStats } from './armStats.js';
export { logMixtureLikelihoodRatio, confidenceHalfWidth } from './msprt.js';
export {
  initialTestState,
  estimateEffect,
  mixingVariance,
  favouredArm,
  lookAt,
  DEFAULT_SUCCESS_MIXING_SD,
  DEFAULT_RESPONSE_MIXING_SCALE,
} from './sequentialTest.js';
export type {
  Arm,
  EffectEstimate,
  SequentialTestSpec,
  SequentialTestState,
  SuccessMetric,
} from './sequentialTest.js';
