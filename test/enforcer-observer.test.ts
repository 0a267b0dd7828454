/** What the enforcer logs and counts, and how it reads its configuration. */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { describe, expect, it } from "vitest";
import { RetryableError } from "#shared/aws/errors.ts";
import { loadEnforcerConfig } from "#shared/enforcer/config.ts";
import { ADVICE, type Decision } from "#shared/enforcer/decide.ts";
import type { SweepSummary } from "#shared/enforcer/flow.ts";
import { enforcerObserver } from "#shared/enforcer/observer.ts";

type Line = { level: string; message: string; fields: Record<string, unknown> };
type Count = { name: string; count: number; dimension?: Record<string, string> };

/** A logger and metrics that keep what they were given. */
function capture() {
  const lines: Line[] = [];
  const counts: Count[] = [];
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  const logger = { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
  const metrics = {
    addMetric: (name: string, _unit: string, count: number) => counts.push({ name, count }),
    singleMetric: () => {
      const dimension: Record<string, string> = {};
      return {
        addDimension: (key: string, value: string) => {
          dimension[key] = value;
        },
        addMetric: (name: string, _unit: string, count: number) => counts.push({ name, count, dimension }),
      };
    },
  };
  const observer = enforcerObserver(logger as unknown as Logger, metrics as unknown as Metrics, "enforce");
  return { observer, lines, counts };
}

const SVC = "arn:aws:ecs:us-east-1:123456789012:service/prod/web";

describe("the enforcer's log lines", () => {
  it("logs one line per decision with its codes and ARNs under the logger's own keys, nothing else", () => {
    const { observer, lines } = capture();
    const decision: Decision = {
      outcome: "converged",
      reason: "CONVERGED",
      message: "moved the service to the copy",
      service: SVC,
      cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
      taskDefinitionArn: "td:1",
      copyArn: "td:2",
      svc: { containerDefinitions: "secret environment" },
    };
    observer.decision(decision);
    expect(lines).toEqual([
      {
        level: "info",
        message: "converged: CONVERGED",
        fields: {
          outcome: "converged",
          reason: "CONVERGED",
          serviceArn: SVC,
          cluster: "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
          taskDefinitionArn: "td:1",
          copyArn: "td:2",
          detail: "moved the service to the copy",
          mode: "enforce",
        },
      },
    ]);
  });

  it.each<[string, Partial<Decision>, string]>([
    ["failures", { outcome: "failed", reason: "UPDATE_REJECTED" }, "error"],
    [
      "refusals",
      { outcome: "refused", reason: "TOO_MANY_CONTAINERS", reasons: ["TOO_MANY_CONTAINERS"] },
      "warn",
    ],
    ["a revert that sent an alert", { outcome: "left", reason: "REVERTED_BY_OWNER", alerted: true }, "warn"],
    ["a revert reported before", { outcome: "left", reason: "REVERTED_BY_OWNER", alerted: false }, "info"],
    ["what was left alone", { outcome: "left", reason: "NOT_OPTED_IN" }, "info"],
    ["a skipped event", { outcome: "skipped", reason: "MALFORMED_EVENT" }, "info"],
    ["another controller outside a sweep", { outcome: "left", reason: "CONTROLLER_NOT_ECS" }, "info"],
  ])("logs %s at level %s", (_, decision, level) => {
    const { observer, lines } = capture();
    observer.decision(decision as Decision);
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      [level, `${decision.outcome}: ${decision.reason}`],
    ]);
  });

  it("reports a sweep's services with another deployment controller in one warning, at most 20 named", () => {
    const { observer, lines } = capture();
    const others: Decision[] = Array.from({ length: 25 }, (_, i) => ({
      outcome: "left",
      reason: "CONTROLLER_NOT_ECS",
      service: `${SVC}-${i}`,
    }));
    const converged: Decision = { outcome: "converged", reason: "CONVERGED", service: SVC };
    const summary: SweepSummary = {
      targets: 1,
      services: 26,
      describeServicesCalls: 3,
      byReason: { CONTROLLER_NOT_ECS: 25, CONVERGED: 1 },
      failures: [],
    };
    for (const d of [...others, converged]) observer.decision(d, true);
    observer.sweep(summary, [...others, converged]);
    // Each such service is a debug line only; the sweep names them in one warning with the advice.
    expect(lines.filter((l) => l.level === "debug").map((l) => l.message)).toEqual(
      Array(25).fill("left: CONTROLLER_NOT_ECS"),
    );
    expect(lines.filter((l) => l.level === "info").map((l) => l.message)).toEqual([
      "converged: CONVERGED",
      "sweep: done",
    ]);
    expect(lines.filter((l) => l.level === "warn")).toEqual([
      {
        level: "warn",
        message: "sweep: CONTROLLER_NOT_ECS",
        fields: {
          reason: "CONTROLLER_NOT_ECS",
          count: 25,
          services: others.slice(0, 20).map((d) => d.service),
          advice: ADVICE.controller,
          mode: "enforce",
        },
      },
    ]);
    expect(lines.at(-1)?.fields).toEqual({ outcome: "swept", ...summary, mode: "enforce" });
  });

  it("logs and counts each failed account or cluster of a sweep, and no controller line when there is none", () => {
    const { observer, lines, counts } = capture();
    const failure = {
      account: "222222222222",
      region: "eu-west-1",
      reason: "ACCESS_DENIED",
      message: "denied",
    };
    observer.sweep(
      { targets: 2, services: 0, describeServicesCalls: 0, byReason: {}, failures: [failure] },
      [],
    );
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ["info", "sweep: done"],
      ["error", "sweep failed: ACCESS_DENIED"],
    ]);
    expect(lines[1]?.fields).toEqual({ outcome: "failed", ...failure, mode: "enforce" });
    expect(counts).toEqual([
      { name: "SweepFailed", count: 1 },
      { name: "SweepFailed", count: 1, dimension: { Reason: "ACCESS_DENIED" } },
    ]);
  });

  it("reports a retry and records left for later", () => {
    const { observer, lines, counts } = capture();
    observer.retry(new RetryableError("THROTTLED", "slow down"), { service: SVC });
    observer.deferred?.(3);
    expect(lines).toEqual([
      {
        level: "warn",
        message: "retry: THROTTLED",
        fields: {
          outcome: "retry",
          reason: "THROTTLED",
          detail: "slow down",
          serviceArn: SVC,
          mode: "enforce",
        },
      },
      {
        level: "warn",
        message: "deferred: TIME_BUDGET",
        fields: { outcome: "deferred", reason: "TIME_BUDGET", count: 3, mode: "enforce" },
      },
    ]);
    expect(counts.filter((c) => c.dimension).map((c) => [c.name, c.count, c.dimension?.Reason])).toEqual([
      ["Retried", 1, "THROTTLED"],
      ["Deferred", 3, "TIME_BUDGET"],
    ]);
  });
});

describe("the enforcer's counts", () => {
  it("publishes one count per outcome and reason on flush, then starts again", () => {
    const { observer, counts } = capture();
    const decisions: Decision[] = [
      { outcome: "converged", reason: "CONVERGED" },
      { outcome: "converged", reason: "CONVERGED" },
      { outcome: "audited", reason: "WOULD_CONVERGE" },
      { outcome: "left", reason: "NOT_OPTED_IN" },
      { outcome: "refused", reason: "TOO_MANY_CONTAINERS" },
      { outcome: "failed", reason: "UPDATE_REJECTED" },
      { outcome: "skipped", reason: "FOREIGN_EVENT" },
      { outcome: "skipped", reason: "NOT_OPTED_IN" },
    ];
    for (const d of decisions) observer.decision(d);
    expect(counts).toEqual([]);
    observer.flush();
    const withReason = counts.filter((c) => c.dimension).map((c) => [c.name, c.dimension?.Reason, c.count]);
    expect(withReason).toEqual([
      ["Converged", "CONVERGED", 2],
      ["Audited", "WOULD_CONVERGE", 1],
      ["LeftAlone", "NOT_OPTED_IN", 1],
      ["Refused", "TOO_MANY_CONTAINERS", 1],
      ["Failed", "UPDATE_REJECTED", 1],
      ["Skipped", "FOREIGN_EVENT", 1],
      ["Skipped", "NOT_OPTED_IN", 1],
    ]);
    expect(counts.filter((c) => !c.dimension).map((c) => [c.name, c.count])).toEqual([
      ["Converged", 2],
      ["Audited", 1],
      ["LeftAlone", 1],
      ["Refused", 1],
      ["Failed", 1],
      ["Skipped", 1],
      ["Skipped", 1],
    ]);
    counts.length = 0;
    observer.flush();
    expect(counts).toEqual([]);
  });
});

describe("the enforcer's configuration", () => {
  it("has safe defaults: audit, stacks checked, the default bus, bounded concurrency", () => {
    expect(loadEnforcerConfig({})).toMatchObject({
      mode: "audit",
      checkStacks: true,
      alertBus: "default",
      updateConcurrency: 4,
      movesPerCluster: 10,
      clusterConcurrency: 4,
      accountConcurrency: 4,
      selfSessionNames: ["dns-cache-enforcer"],
    });
    expect(loadEnforcerConfig({}).table).toBeUndefined();
    expect(loadEnforcerConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: "  " }).table).toBeUndefined();
  });

  it("reads every setting", () => {
    expect(
      loadEnforcerConfig({
        DNS_CACHE_MODE: "enforce",
        DNS_CACHE_IDEMPOTENCY_TABLE: " guard ",
        DNS_CACHE_CHECK_STACKS: "off",
        DNS_CACHE_ALERT_BUS: " ops ",
        DNS_CACHE_UPDATE_CONCURRENCY: "20",
        DNS_CACHE_MOVES_PER_CLUSTER: "1",
        DNS_CACHE_CLUSTER_CONCURRENCY: "2",
        DNS_CACHE_ACCOUNT_CONCURRENCY: "3",
        AWS_LAMBDA_FUNCTION_NAME: "my-enforcer",
      }),
    ).toMatchObject({
      mode: "enforce",
      table: "guard",
      checkStacks: false,
      alertBus: "ops",
      updateConcurrency: 20,
      movesPerCluster: 1,
      clusterConcurrency: 2,
      accountConcurrency: 3,
      selfSessionNames: ["dns-cache-enforcer", "my-enforcer"],
    });
    // Audit mode keeps the table when one is given (the memory of earlier moves is read).
    expect(loadEnforcerConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: " guard " }).table).toBe("guard");
    expect(loadEnforcerConfig({ DNS_CACHE_ALERT_BUS: "  " }).alertBus).toBe("default");
  });

  it.each([
    ["DNS_CACHE_CHECK_STACKS", "yes", /^DNS_CACHE_CHECK_STACKS: expected one of on, off/],
    [
      "DNS_CACHE_UPDATE_CONCURRENCY",
      "0",
      /^DNS_CACHE_UPDATE_CONCURRENCY: expected a whole number from 1 to 20/,
    ],
    ["DNS_CACHE_UPDATE_CONCURRENCY", "21", /^DNS_CACHE_UPDATE_CONCURRENCY: /],
    [
      "DNS_CACHE_MOVES_PER_CLUSTER",
      "11",
      /^DNS_CACHE_MOVES_PER_CLUSTER: expected a whole number from 1 to 10/,
    ],
    ["DNS_CACHE_MOVES_PER_CLUSTER", "0", /^DNS_CACHE_MOVES_PER_CLUSTER: /],
    [
      "DNS_CACHE_CLUSTER_CONCURRENCY",
      "21",
      /^DNS_CACHE_CLUSTER_CONCURRENCY: expected a whole number from 1 to 20/,
    ],
    ["DNS_CACHE_CLUSTER_CONCURRENCY", "0", /^DNS_CACHE_CLUSTER_CONCURRENCY: /],
    [
      "DNS_CACHE_ACCOUNT_CONCURRENCY",
      "21",
      /^DNS_CACHE_ACCOUNT_CONCURRENCY: expected a whole number from 1 to 20/,
    ],
    ["DNS_CACHE_ACCOUNT_CONCURRENCY", "0", /^DNS_CACHE_ACCOUNT_CONCURRENCY: /],
    ["DNS_CACHE_MODE", "on", /^DNS_CACHE_MODE: expected one of enforce, audit/],
  ])("refuses %s=%s naming the variable", (variable, value, message) => {
    expect(() => loadEnforcerConfig({ [variable]: value })).toThrow(message);
  });
});
