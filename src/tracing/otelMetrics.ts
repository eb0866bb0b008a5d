import type * as Api from '@opentelemetry/api';
import { MetricName } from './metricNames.js';
import { Attr, type SpanEvent, type TraceSpan } from './span.js';

/** `ndf.breaker.state` values. */
const BREAKER_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;

/** Records the metrics of ended spans and span events on `meter`. */
export class SpanMetrics {
  private readonly runDuration: Api.Histogram;
  private readonly stepDuration: Api.Histogram;
  private readonly stepAttempts: Api.Histogram;
  private readonly agentDuration: Api.Histogram;
  private readonly agentActive: Api.UpDownCounter;
  private readonly queue: Api.UpDownCounter;
  private readonly compensations: Api.Counter;
  private readonly breakers = new Map<string, number>();

  constructor(meter: Api.Meter) {
    const s = (name: string, description: string) => meter.createHistogram(name, { unit: 's', description });
    this.runDuration = s(MetricName.RUN_DURATION, 'Duration of a run, by pattern and status');
    this.stepDuration = s(MetricName.STEP_DURATION, 'Duration of a step, its waits and retries included');
    this.agentDuration = s(
      MetricName.AGENT_DURATION,
      'Duration of one agent call (attempt), by agent and error.type',
    );
    this.stepAttempts = meter.createHistogram(MetricName.STEP_ATTEMPTS, {
      unit: '{attempt}',
      description: 'Attempts a step took',
    });
    this.agentActive = meter.createUpDownCounter(MetricName.AGENT_ACTIVE, {
      unit: '{call}',
      description: 'Agent calls in flight, by agent (utilisation = this / maxConcurrent)',
    });
    this.queue = meter.createUpDownCounter(MetricName.AGENT_QUEUE, {
      unit: '{attempt}',
      description: 'Attempts waiting for an agent slot or an open breaker (trace level detailed)',
    });
    this.compensations = meter.createCounter(MetricName.COMPENSATIONS, {
      unit: '{compensation}',
      description: 'Compensations run, by outcome',
    });
    meter
      .createObservableGauge(MetricName.BREAKER_STATE, {
        unit: '1',
        description: 'Circuit breaker state by agent: 0 closed, 1 half-open, 2 open',
      })
      .addCallback((result) => {
        for (const [agent, value] of this.breakers) result.observe(value, { [Attr.AGENT_NAME]: agent });
      });
  }

  started(span: TraceSpan): void {
    if (span.kind === 'attempt') this.agentActive.add(1, agentOf(span));
    else if (span.kind === 'wait' && span.attributes[Attr.WAIT] === 'queue') this.queue.add(1);
  }

  ended(span: TraceSpan): void {
    const seconds = ((span.endedAt ?? span.startedAt) - span.startedAt) / 1000;
    const error = span.error ? { [Attr.ERROR_TYPE]: span.error.type } : {};
    switch (span.kind) {
      case 'run':
        this.runDuration.record(seconds, {
          [Attr.PATTERN]: String(span.attributes[Attr.PATTERN]),
          [Attr.RUN_STATUS]: String(span.attributes[Attr.RUN_STATUS] ?? 'unknown'),
        });
        return;
      case 'step': {
        const where = {
          [Attr.PATTERN]: String(span.attributes[Attr.PATTERN]),
          [Attr.STEP]: String(span.attributes[Attr.STEP]),
        };
        this.stepDuration.record(seconds, {
          ...where,
          [Attr.STEP_STATUS]: String(span.attributes[Attr.STEP_STATUS] ?? 'unfinished'),
        });
        const attempts = span.attributes[Attr.ATTEMPTS];
        if (typeof attempts === 'number') this.stepAttempts.record(attempts, where);
        return;
      }
      case 'attempt':
        this.agentActive.add(-1, agentOf(span));
        this.agentDuration.record(seconds, { ...agentOf(span), ...error });
        return;
      case 'wait':
        if (span.attributes[Attr.WAIT] === 'queue') this.queue.add(-1);
        return;
      case 'compensation':
        this.compensations.add(1, {
          [Attr.COMPENSATION]: span.status === 'ok' ? 'compensated' : 'compensationFailed',
        });
        return;
      default:
        return;
    }
  }

  event(event: SpanEvent): void {
    if (event.name !== 'ndf.breaker.state') return;
    const to = event.attributes[Attr.BREAKER_TO] as keyof typeof BREAKER_VALUE;
    this.breakers.set(String(event.attributes[Attr.AGENT_NAME]), BREAKER_VALUE[to]);
  }
}

function agentOf(span: TraceSpan): Api.Attributes {
  return { [Attr.AGENT_NAME]: String(span.attributes[Attr.AGENT_NAME]) };
}
