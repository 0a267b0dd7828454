import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { RetryableError } from "#shared/aws/errors.ts";
import { countWithDimension, reportDeferred, reportRetry } from "#shared/runtime/observability.ts";
import { pick } from "#shared/runtime/pick.ts";
import type { Observer, Outcome } from "./flow.ts";

const LOGGED_OUTCOME_FIELDS = [
  "outcome",
  "reason",
  "reasons",
  "message",
  "family",
  "taskDefinitionArn",
  "injectedTaskDefinitionArn",
  "firstOutcome",
] as const;

export function parseSqsBody(body: string): { ok: true; event: unknown } | { ok: false; outcome: Outcome } {
  try {
    return { ok: true, event: JSON.parse(body) };
  } catch {
    return {
      ok: false,
      outcome: { outcome: "skipped", reason: "MALFORMED_EVENT", message: "the SQS message body is not JSON" },
    };
  }
}

const METRIC_OF: Record<Outcome["outcome"], string> = {
  injected: "Injected",
  audited: "Audited",
  skipped: "Skipped",
  refused: "Refused",
  failed: "Failed",
};

/** Exactly what may be logged of an outcome: codes, names and ARNs, never definitions or values. */
function loggable(o: Outcome): Record<string, unknown> {
  // "message" is the log line's own key in Powertools Logger.
  const { message, ...rest } = pick(o, LOGGED_OUTCOME_FIELDS);
  return { ...rest, detail: message };
}

export function injectorObserver(logger: Logger, metrics: Metrics, mode: string): Observer {
  return {
    outcome(o) {
      const level = o.outcome === "failed" ? "error" : o.outcome === "refused" ? "warn" : "info";
      logger[level](`${o.outcome}: ${o.reason}`, { ...loggable(o), mode });
      if (o.outcome === "injected") metrics.addMetric(METRIC_OF.injected, MetricUnit.Count, 1);
      else countWithDimension(metrics, METRIC_OF[o.outcome], "Reason", o.reason);
    },
    retry(error: RetryableError, about: Partial<Outcome>) {
      reportRetry(logger, metrics, error, {
        family: about.family,
        taskDefinitionArn: about.taskDefinitionArn,
        mode,
      });
    },
    deferred(count) {
      reportDeferred(logger, metrics, count, mode);
    },
  };
}
