/**
 * Metric names and units the OpenTelemetry bridge records (docs/observability.md). Durations are
 * seconds, as OpenTelemetry's semantic conventions ask.
 */
export const MetricName = {
  RUN_DURATION: 'ndf.run.duration',
  STEP_DURATION: 'ndf.step.duration',
  STEP_ATTEMPTS: 'ndf.step.attempts',
  AGENT_DURATION: 'ndf.agent.duration',
  AGENT_ACTIVE: 'ndf.agent.active',
  AGENT_QUEUE: 'ndf.agent.queue.length',
  BREAKER_STATE: 'ndf.breaker.state',
  COMPENSATIONS: 'ndf.compensations',
} as const;
