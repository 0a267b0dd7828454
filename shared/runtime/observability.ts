import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

export const METRICS_NAMESPACE = "DnsCache";

export function createObservability(serviceName: string): { logger: Logger; metrics: Metrics } {
  // POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE, when set by the template, win.
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({
    serviceName,
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  });
  return { logger, metrics };
}

/** One count in total, and one with a dimension, so alarms can use either. */
export function countWithDimension(
  metrics: Metrics,
  name: string,
  dimension: string,
  value: string,
  count = 1,
): void {
  metrics.addMetric(name, MetricUnit.Count, count);
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, count);
}

/**
 * Several counts under one dimension value, as one EMF line of their own (published at once): e.g. every
 * class of one cluster. Counts of zero are kept, so alarms and dashboards see the zeros too.
 */
export function publishCountsWithDimension(
  serviceName: string,
  counts: Readonly<Record<string, number>>,
  dimension: string,
  value: string,
  percentages: Readonly<Record<string, number>> = {},
): void {
  const entries = Object.entries(counts);
  if (entries.length === 0) return;
  const metrics = new Metrics({
    serviceName,
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    defaultDimensions: { [dimension]: value },
  });
  for (const [name, count] of entries) metrics.addMetric(name, MetricUnit.Count, count);
  for (const [name, percent] of Object.entries(percentages))
    metrics.addMetric(name, MetricUnit.Percent, percent);
  metrics.publishStoredMetrics();
}

/** An error about to be retried (SQS redelivers the record): one warning line and the Retried count. */
export function reportRetry(
  logger: Logger,
  metrics: Metrics,
  error: { reason: string; message: string },
  about: Record<string, unknown>,
): void {
  logger.warn(`retry: ${error.reason}`, {
    outcome: "retry",
    reason: error.reason,
    detail: error.message,
    ...about,
  });
  countWithDimension(metrics, "Retried", "Reason", error.reason);
}

/** SQS records left for redelivery because the invocation's time could not fit them. */
export function reportDeferred(logger: Logger, metrics: Metrics, count: number, mode: string): void {
  logger.warn("deferred: TIME_BUDGET", { outcome: "deferred", reason: "TIME_BUDGET", count, mode });
  countWithDimension(metrics, "Deferred", "Reason", "TIME_BUDGET", count);
}
