/**
 * The sweep through the real AWS SDK against the local ECS stand-in (and a PutEvents stand-in): 10,000
 * tasks in 100 clusters, the ECS calls it costs, and that it completes under a DescribeTasks rate limit.
 */
import { ECSClient } from "@aws-sdk/client-ecs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ecsClientConfig } from "#shared/aws/ecs-task-definitions.ts";
import { loadHealthConfig } from "#shared/health/config.ts";
import type { HealthDeps, HealthObserver, HealthSummary } from "#shared/health/invocation.ts";
import { sweep } from "#shared/health/sweep.ts";
import { type EcsStandin, startEcsStandin } from "./support/ecs-standin.ts";
import { type EventBridgeStandin, startEventBridgeStandin } from "./support/eventbridge-standin.ts";
import { type Fleet, seedFleet } from "./support/fleet.ts";

const CLUSTERS = 100;
const TASKS_PER_CLUSTER = 100;
const ECS_OPERATIONS = ["ListClusters", "ListTasks", "DescribeTasks", "DescribeTaskDefinition"];

const quiet: HealthObserver = {
  finding: () => undefined,
  ignored: () => undefined,
  problem: () => undefined,
  clusterCounts: () => undefined,
  alertsFailed: () => undefined,
  accountsFailed: () => undefined,
  summary: () => undefined,
};

let ecs: EcsStandin;
let bus: EventBridgeStandin;
let fleet: Fleet;
const clients: Array<{ destroy(): void }> = [];

function deps(): HealthDeps {
  const client = new ECSClient(ecsClientConfig(ecs.clientConfig()));
  const events = new EventBridgeClient({ ...ecs.clientConfig(), endpoint: bus.url });
  clients.push(client, events);
  return { config: loadHealthConfig({}), ecsFor: () => client, sweepEcs: client, events, observer: quiet };
}

/** ECS calls that were answered (throttled attempts are counted apart). */
function okCalls(): Record<string, number> {
  return ecs.calls.counts({ outcome: "ok" });
}

function expectFleetCounts(summary: HealthSummary): void {
  expect(summary.counts).toEqual(fleet.expected);
  expect(summary.clustersScanned).toBe(CLUSTERS);
  expect(summary.tasksExamined).toBe(fleet.tasks);
  expect(summary.alertsSent).toBe(fleet.alerts);
  expect(summary.alertsFailed).toBe(0);
  expect(summary.ignored.NOT_OURS).toBe(fleet.kinds.plain);
  expect(summary.ignored.TASK_NOT_RUNNING).toBe(fleet.kinds.pending);
}

beforeAll(async () => {
  ecs = await startEcsStandin({ recordInputs: false });
  bus = await startEventBridgeStandin();
  const started = performance.now();
  fleet = seedFleet(ecs.state, { clusters: CLUSTERS, tasksPerCluster: TASKS_PER_CLUSTER });
  console.log(
    `seeded ${fleet.tasks} tasks in ${CLUSTERS} clusters in ${Math.round(performance.now() - started)} ms:`,
    fleet.kinds,
  );
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await ecs?.close();
  await bus?.close();
});

// Scale (seconds each): left out of mutation runs (vitest.mutation.config.ts).
describe.skipIf(process.env.DNS_CACHE_MUTATION_RUN)("a sweep of 10,000 tasks in 100 clusters", () => {
  it("costs at most 2.1 ECS calls per 100 tasks, plus one per cluster and per distinct task definition", async () => {
    ecs.calls.reset();
    bus.reset();
    const started = performance.now();
    const summary = await sweep(deps());
    const ms = Math.round(performance.now() - started);

    expectFleetCounts(summary);
    const calls = okCalls();
    const total = ECS_OPERATIONS.reduce((sum, op) => sum + (calls[op] ?? 0), 0);
    const budget = (2.1 * fleet.tasks) / 100 + CLUSTERS + fleet.taskDefinitionsWithoutSidecar;
    console.log(
      `sweep: ${ms} ms; ECS calls ${JSON.stringify(calls)} = ${total} (budget ${budget}); ` +
        `${fleet.taskDefinitionsWithoutSidecar} distinct task definitions without the sidecar; ` +
        `PutEvents ${bus.calls()} for ${bus.entries.length} alerts; summary.apiCalls ${JSON.stringify(summary.apiCalls)}`,
    );
    expect(total).toBeLessThanOrEqual(budget);
    expect(calls).toEqual({
      ListClusters: 1,
      ListTasks: CLUSTERS,
      DescribeTasks: fleet.tasks / 100,
      DescribeTaskDefinition: fleet.taskDefinitionsWithoutSidecar,
    });
    expect(ecs.calls.count(undefined, { outcome: "error" })).toBe(0);
    // What the summary says matches what ECS saw.
    expect(summary.apiCalls).toMatchObject(calls);
    // The alerts: 10 per PutEvents call.
    expect(bus.entries).toHaveLength(fleet.alerts);
    expect(bus.calls()).toBe(Math.ceil(fleet.alerts / 10));
    expect(new Set(bus.entries.map((e) => e.DetailType))).toEqual(
      new Set(["DNS Cache Sidecar Unhealthy", "DNS Cache Sidecar Stopped", "DNS Cache Drift Detected"]),
    );
    expect(bus.entries.filter((e) => e.DetailType === "DNS Cache Drift Detected")).toHaveLength(
      fleet.driftGroups,
    );
  });

  it("completes under a DescribeTasks rate limit (20/s, burst 10), the SDK retrying the throttled calls", async () => {
    ecs.calls.reset();
    bus.reset();
    ecs.setRateLimits({ DescribeTasks: { ratePerSecond: 20, burst: 10 } });
    try {
      const started = performance.now();
      const summary = await sweep(deps());
      const ms = Math.round(performance.now() - started);
      expectFleetCounts(summary);
      const throttled = ecs.calls.count("DescribeTasks", { source: "rate-limit" });
      console.log(
        `rate-limited sweep (DescribeTasks 20/s, burst 10): ${ms} ms; answered ${JSON.stringify(okCalls())}; ` +
          `throttled DescribeTasks attempts ${throttled}`,
      );
      expect(throttled).toBeGreaterThan(0);
      expect(okCalls().DescribeTasks).toBe(fleet.tasks / 100);
      // The throttled attempts are the SDK's retries of the same calls, not new calls.
      expect(summary.apiCalls.DescribeTasks).toBe(fleet.tasks / 100);
      // At 20/s after a burst of 10, 100 calls cannot take less than 4.5 s.
      expect(ms).toBeGreaterThanOrEqual(4_000);
    } finally {
      ecs.setRateLimits(undefined);
    }
  });

  it("the bundled handler (dist/health/index.mjs) sweeps the stand-in on a Scheduled Event", async () => {
    ecs.calls.reset();
    bus.reset();
    for (const [key, value] of Object.entries({
      ...ecs.env(),
      AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url,
      DNS_CACHE_ALERT_BUS: "dns-cache-alerts",
      DNS_CACHE_SWEEP_CONCURRENCY: "8",
      POWERTOOLS_LOG_LEVEL: "ERROR",
    })) {
      vi.stubEnv(key, value);
    }
    const output: string[] = [];
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      output.push(...String(chunk).split("\n").filter(Boolean));
      return true;
    });
    let summary: HealthSummary;
    try {
      const bundle = new URL("../dist/health/index.mjs", import.meta.url).href;
      const { handler } = (await import(bundle)) as {
        handler: (event: unknown, context: Context) => Promise<HealthSummary>;
      };
      const event = JSON.parse(
        await (await import("node:fs/promises")).readFile(
          new URL("../events/scheduled-sweep.json", import.meta.url),
          "utf8",
        ),
      );
      summary = await handler(event, { awsRequestId: "req-1", functionName: "dns-cache-health" } as Context);
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
    expectFleetCounts(summary);
    expect(bus.entries).toHaveLength(fleet.alerts);
    expect(bus.entries.every((e) => e.EventBusName === "dns-cache-alerts" && e.Source === "dns-cache")).toBe(
      true,
    );
    const emf = output
      .map(
        (line) =>
          JSON.parse(line) as Record<string, unknown> & {
            _aws?: { CloudWatchMetrics: Array<{ Namespace: string }> };
          },
      )
      .filter((line) => line._aws);
    const perCluster = emf.filter((line) => typeof line.ClusterName === "string");
    expect(perCluster).toHaveLength(CLUSTERS);
    expect(perCluster.every((line) => line._aws?.CloudWatchMetrics[0]?.Namespace === "DnsCache")).toBe(true);
    const sum = (name: string) => perCluster.reduce((total, line) => total + Number(line[name] ?? 0), 0);
    expect(sum("SidecarHealthy")).toBe(fleet.expected.HEALTHY);
    expect(sum("TasksWithoutSidecar")).toBe(fleet.expected.DRIFT);
    // Coverage per cluster, in the same line: the share of running opted-in tasks that have the cache.
    for (const line of perCluster) {
      const withCache = [
        "SidecarHealthy",
        "SidecarStarting",
        "SidecarUnhealthy",
        "SidecarStopped",
        "SidecarUnknown",
      ]
        .map((name) => Number(line[name] ?? 0))
        .reduce((a, b) => a + b, 0);
      const all = withCache + Number(line.TasksWithoutSidecar ?? 0);
      if (all > 0) expect(line.Coverage).toBeCloseTo((100 * withCache) / all, 6);
    }
  });
});

describe("pagination through the real SDK", () => {
  it("pages ListTasks by 100 and describes each page, per cluster", async () => {
    const standin = await startEcsStandin({ recordInputs: true });
    const sizes = [0, 250, 101, 100, 1];
    const small = seedFleet(standin.state, {
      clusters: sizes.length,
      tasksPerCluster: (i) => sizes[i] ?? 0,
      mix: { healthy: 1, drift: 0, plain: 0, pending: 0, unhealthy: 0, stopped: 0, starting: 0, unknown: 0 },
    });
    const client = new ECSClient(ecsClientConfig(standin.clientConfig()));
    clients.push(client);
    try {
      const summary = await sweep({ ...deps(), sweepEcs: client });
      expect(summary.counts.HEALTHY).toBe(small.tasks);
      const pages = sizes.reduce((n, size) => n + Math.max(1, Math.ceil(size / 100)), 0);
      expect(standin.calls.counts()).toEqual({
        ListClusters: 1,
        ListTasks: pages,
        DescribeTasks: sizes.reduce((n, size) => n + Math.ceil(size / 100), 0),
      });
      const batches = standin.calls.inputs<{ tasks: string[] }>("DescribeTasks").map((i) => i.tasks.length);
      expect(batches.every((n) => n <= 100)).toBe(true);
      expect(batches.reduce((a, b) => a + b, 0)).toBe(small.tasks);
    } finally {
      await standin.close();
    }
  });
});
