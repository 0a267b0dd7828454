import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { RetryableError } from "#shared/aws/errors.ts";
import { countWithDimension, reportDeferred, reportRetry } from "#shared/runtime/observability.ts";
import { pick } from "#shared/runtime/pick.ts";
import { ADVICE, type Decision } from "./decide.ts";
import type { Observer, SweepSummary } from "./flow.ts";

const LOGGED_FIELDS = [
  "outcome",
  "reason",
  "reasons",
  "message",
  "advice",
  "service",
  "cluster",
  "taskDefinitionArn",
  "copyArn",
  "alerted",
] as const;

const METRIC_OF: Record<Decision["outcome"], string> = {
  converged: "Converged",
  audited: "Audited",
  left: "LeftAlone",
  refused: "Refused",
  failed: "Failed",
  skipped: "Skipped",
};

/** How many services a sweep names in its one CONTROLLER_NOT_ECS line. */
const LISTED = 20;

export interface EnforcerObserver extends Observer {
  /** Publishes the counts: one EMF metric per outcome and reason. */
  flush(): void;
}

/**
 * One log line per decision (codes, names and ARNs only), counts per outcome and reason published once per
 * invocation. In a sweep, services with another deployment controller are reported in one line with the advice.
 */
export function enforcerObserver(logger: Logger, metrics: Metrics, mode: string): EnforcerObserver {
  const tally = new Map<string, { name: string; reason: string; count: number }>();
  return {
    decision(d, inSweep = false) {
      const level = d.outcome === "failed" ? "error" : d.outcome === "refused" || d.alerted ? "warn" : "info";
      // "message" and "service" are the log line's own keys in Powertools Logger.
      const { message, service, ...rest } = pick(d, LOGGED_FIELDS);
      const fields = { ...rest, serviceArn: service, detail: message, mode };
      if (inSweep && d.reason === "CONTROLLER_NOT_ECS") logger.debug(`${d.outcome}: ${d.reason}`, fields);
      else logger[level](`${d.outcome}: ${d.reason}`, fields);
      const name = METRIC_OF[d.outcome];
      const counted = tally.get(`${name}|${d.reason}`) ?? { name, reason: d.reason, count: 0 };
      counted.count += 1;
      tally.set(`${name}|${d.reason}`, counted);
    },
    sweep(summary: SweepSummary, decisions: Decision[]) {
      const others = decisions.filter((d) => d.reason === "CONTROLLER_NOT_ECS");
      if (others.length > 0) {
        logger.warn("sweep: CONTROLLER_NOT_ECS", {
          reason: "CONTROLLER_NOT_ECS",
          count: others.length,
          services: others.slice(0, LISTED).map((d) => d.service),
          advice: ADVICE.controller,
          mode,
        });
      }
      logger.info("sweep: done", { outcome: "swept", ...summary, mode });
      for (const f of summary.failures) {
        logger.error(`sweep failed: ${f.reason}`, { outcome: "failed", ...f, mode });
        countWithDimension(metrics, "SweepFailed", "Reason", f.reason);
      }
    },
    retry(error: RetryableError, about: Partial<Decision>) {
      reportRetry(logger, metrics, error, { serviceArn: about.service, mode });
    },
    deferred(count) {
      reportDeferred(logger, metrics, count, mode);
    },
    flush() {
      for (const { name, reason, count } of tally.values())
        countWithDimension(metrics, name, "Reason", reason, count);
      tally.clear();
    },
  };
}
