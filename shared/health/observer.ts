import type { Logger } from "@aws-lambda-powertools/logger";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { countWithDimension, publishCountsWithDimension } from "#shared/runtime/observability.ts";
import { pick } from "#shared/runtime/pick.ts";
import {
  coverageOf,
  FINDING_FIELDS,
  type Finding,
  metricCounts,
  NODE_CACHE_METRIC_NAMES,
} from "./classify.ts";
import type { HealthObserver, HealthSummary } from "./invocation.ts";

/** Exactly what may be logged of a finding: codes, names and ARNs; never environments or definitions. */
function loggable(f: Finding): Record<string, unknown> {
  return { outcome: "finding", ...pick(f, ["kind", "code", "clusterName", ...FINDING_FIELDS]) };
}

/**
 * Logs with Powertools Logger, metrics with Powertools Metrics (EMF, namespace DnsCache): totals without a
 * dimension (flushed by the middleware), and one line per cluster with the ClusterName dimension.
 *
 * A sweep's counts are a snapshot of the fleet (every class, zeros included, per scanned cluster); an
 * event's count the sidecars its tasks were found in (non-zero classes only).
 */
export function healthObserver(logger: Logger, metrics: Metrics, serviceName: string): HealthObserver {
  // The lowest per-cluster coverage of a sweep: what the coverage alarm watches.
  let lowestCoverage: number | undefined;
  return {
    finding(f) {
      logger[f.kind === "UNKNOWN" ? "info" : "warn"](`${f.kind}: ${f.code}`, loggable(f));
    },
    ignored(reason, count, about) {
      logger.debug(`ignored: ${reason}`, { outcome: "ignored", reason, count, ...about });
    },
    problem(reason, message, about) {
      logger.warn(`problem: ${reason}`, { outcome: "problem", reason, detail: message, ...about });
    },
    clusterCounts(clusterName, counts, { zeros }) {
      // Coverage: a sweep's snapshot only (an event sees some tasks, not the cluster).
      const coverage = zeros ? coverageOf(counts) : undefined;
      if (coverage !== undefined) lowestCoverage = Math.min(lowestCoverage ?? 100, coverage);
      publishCountsWithDimension(
        serviceName,
        metricCounts(counts, zeros),
        "ClusterName",
        clusterName,
        coverage === undefined ? {} : { Coverage: coverage },
      );
    },
    alertsFailed(failures) {
      const errorCodes: Record<string, number> = {};
      for (const f of failures) errorCodes[f.errorCode] = (errorCodes[f.errorCode] ?? 0) + 1;
      logger.error("alerts failed", { outcome: "alerts-failed", count: failures.length, errorCodes });
    },
    accountsFailed(count) {
      metrics.addMetric("CallsFailed", MetricUnit.Count, count);
    },
    summary(s: HealthSummary) {
      logger.info(`summary: ${s.trigger}`, { outcome: "summary", ...s });
      const sweep = s.trigger === "sweep";
      for (const [name, count] of Object.entries(metricCounts(s.counts, sweep))) {
        metrics.addMetric(name, MetricUnit.Count, count);
      }
      if (sweep) metrics.addMetric("ClustersScanned", MetricUnit.Count, s.clustersScanned);
      if (sweep && lowestCoverage !== undefined)
        metrics.addMetric("CoverageLowest", MetricUnit.Percent, lowestCoverage);
      lowestCoverage = undefined;
      // The node cache daemon is classified by sweeps only (its tasks send no events the rule matches).
      if (sweep) {
        for (const [key, name] of Object.entries(NODE_CACHE_METRIC_NAMES) as Array<
          [keyof typeof s.nodeCache, string]
        >) {
          metrics.addMetric(name, MetricUnit.Count, s.nodeCache[key]);
        }
      }
      if (s.alertsSent > 0) metrics.addMetric("AlertsSent", MetricUnit.Count, s.alertsSent);
      if (s.alertsFailed > 0) metrics.addMetric("AlertsFailed", MetricUnit.Count, s.alertsFailed);
      if (s.callsFailed > 0) metrics.addMetric("CallsFailed", MetricUnit.Count, s.callsFailed);
      for (const [reason, count] of Object.entries(s.ignored)) {
        countWithDimension(metrics, "Ignored", "Reason", reason, count);
      }
    },
  };
}
