/**
 * The health function's flows beyond the happy paths of test/health.test.ts: organisation sweeps, what a
 * Task State Change batch refuses and why, failures of each call, the node cache daemon's findings, the
 * exact alerts, and what the Powertools observer writes (levels, Coverage, node cache and failure metrics).
 */
import {
  type Container,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  type Task,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import { PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { inject } from "#shared/engine/inject.ts";
import { type HealthConfig, loadHealthConfig } from "#shared/health/config.ts";
import type { HealthDeps } from "#shared/health/invocation.ts";
import { handleHealthEvent } from "#shared/health/monitor.ts";
import { sweep } from "#shared/health/sweep.ts";
import { loadEvent } from "./helpers/events.ts";
import {
  ACCOUNT,
  acceptAll,
  captureOutput,
  clusterArn,
  describeFrom,
  ecsMock,
  emf,
  eventsMock,
  fakeEcs,
  healthDeps,
  LONG_AGO,
  NOW,
  OPTED_IN,
  REGION,
  type Recorded,
  recorder,
  sentEntries,
  sqs,
  stateChange,
  task,
  taskArn,
  taskDefinition,
  tdArn,
  throttled,
} from "./helpers/health-world.ts";

let observer: Recorded;

function deps(config: Partial<HealthConfig> = {}, extra: Partial<HealthDeps> = {}): HealthDeps {
  return healthDeps(observer, config, extra);
}

beforeEach(() => {
  ecsMock.reset();
  eventsMock.reset();
  acceptAll();
  observer = recorder();
});

const detailOf = (i = 0) => JSON.parse(sentEntries()[i]?.Detail ?? "{}");

// ------------------------------------------------------------------ organisation sweeps

describe("organisation sweeps (DNS_CACHE_SWEEP_ACCOUNTS)", () => {
  const east = { account: "111111111111", region: "us-east-1" };
  const west = { account: "222222222222", region: "eu-west-1" };
  const locked = { account: "333333333333", region: "us-east-1" };

  /** Each region's client sees its own clusters (ListClusters answers by the client's region). */
  function fleetPerRegion(): void {
    fakeEcs({
      clusters: {
        east: [
          task("h", { cluster: "east" }),
          task("u", { cluster: "east", sidecar: { healthStatus: "UNHEALTHY" } }),
          task("p", { cluster: "east", lastStatus: "PENDING" }),
        ],
        west: [
          task("h", { cluster: "west" }),
          task("u2", { cluster: "west", sidecar: { healthStatus: "UNHEALTHY" } }),
          task("x", { cluster: "west", sidecar: { lastStatus: "STOPPED", exitCode: 1 } }),
          task("plain", { cluster: "west", sidecar: null, taskDefinitionArn: tdArn("plain", 1) }),
        ],
      },
    });
    // West's revision cannot be read (a failed call), and its "stopped" alert is refused by the bus.
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(throttled());
    eventsMock.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      const results = input.Entries.map((e, i) =>
        e.DetailType === "DNS Cache Sidecar Stopped"
          ? { ErrorCode: "InternalFailure" }
          : { EventId: `e${i}` },
      );
      return { FailedEntryCount: results.filter((r) => "ErrorCode" in r).length, Entries: results };
    });
    const byRegion: Record<string, string[]> = {
      "us-east-1": [clusterArn("east")],
      "eu-west-1": [clusterArn("west")],
    };
    ecsMock.on(ListClustersCommand).callsFake(async (_input, getClient) => ({
      clusterArns: byRegion[await getClient().config.region()] ?? [],
    }));
  }

  const regionClient = (region: string) =>
    new ECSClient({ region, maxAttempts: 1, credentials: { accessKeyId: "a", secretAccessKey: "b" } });

  it("adds up every account's sweep; accounts that cannot be listed or reached are reported and counted", async () => {
    fleetPerRegion();
    const summary = await handleHealthEvent(
      loadEvent("scheduled-sweep.json"),
      deps(
        {},
        {
          ecsFor: async (target) => {
            if (target.account === locked.account) throw new Error("AccessDenied: cannot assume the role");
            return regionClient(target.region);
          },
          sweepTargets: async () => ({
            targets: [east, west, locked],
            failures: [
              {
                account: "444444444444",
                region: "us-east-1",
                reason: "ACCESS_DENIED",
                message: "not allowed",
              },
            ],
          }),
        },
      ),
    );
    expect(summary).toEqual({
      trigger: "sweep",
      counts: { HEALTHY: 2, UNHEALTHY: 2, STARTING: 0, STOPPED: 1, UNKNOWN: 0, DRIFT: 0 },
      nodeCache: { HEALTHY: 0, UNHEALTHY: 0, STARTING: 0, STOPPED: 0, UNKNOWN: 0, MISSING: 0 },
      clustersScanned: 2,
      tasksExamined: 7,
      // West's failed entry was sent once more.
      apiCalls: { ListClusters: 2, ListTasks: 2, DescribeTasks: 2, DescribeTaskDefinition: 1, PutEvents: 3 },
      alertsSent: 2,
      alertsFailed: 1,
      // West's failed read, the account whose targets could not be listed, the one whose role was refused.
      callsFailed: 3,
      // Each account's reasons, merged: east set a PENDING task aside, west could not check a revision.
      ignored: { TASK_NOT_RUNNING: 1, DRIFT_NOT_CHECKED: 1 },
      durationMs: expect.any(Number),
    });
    // The accounts' sweeps overlap: the duration is the organisation sweep's own, not their sum.
    expect(summary.durationMs).toBeGreaterThanOrEqual(0);
    expect(summary.durationMs).toBeLessThan(60_000);
    expect(observer.problemsAbout).toEqual(
      expect.arrayContaining([
        {
          reason: "ACCESS_DENIED",
          message: "not allowed",
          about: { account: "444444444444", region: "us-east-1" },
        },
        { reason: "ACCOUNT_FAILED", message: "AccessDenied: cannot assume the role", about: locked },
      ]),
    );
    expect(observer.problemsAbout).toHaveLength(3);
    // Each swept account's summary carries its own failed calls; the two accounts left out have none.
    expect(observer.accountFailures).toEqual([2]);
    expect(
      sentEntries()
        .filter((e) => e.DetailType === "DNS Cache Sidecar Unhealthy")
        .map((e) => JSON.parse(e.Detail ?? "{}").clusterArn)
        .sort(),
    ).toEqual([clusterArn("east"), clusterArn("west")]);
  });

  it("says NO_ACCOUNT_SWEPT when no account could be swept, rather than reporting an empty fleet", async () => {
    const summary = await handleHealthEvent(
      loadEvent("scheduled-sweep.json"),
      deps(
        {},
        {
          ecsFor: async () => {
            throw new Error("AccessDenied");
          },
          sweepTargets: async () => ({ targets: [locked], failures: [] }),
        },
      ),
    );
    expect(summary).toMatchObject({
      trigger: "ignored",
      ignored: { NO_ACCOUNT_SWEPT: 1 },
      clustersScanned: 0,
    });
    expect(observer.ignoredLog).toEqual([
      { reason: "NO_ACCOUNT_SWEPT", count: 1, about: { message: "no account could be swept" } },
    ]);
    expect(observer.problems.map((p) => p.reason)).toEqual(["ACCOUNT_FAILED"]);
    expect(observer.accountFailures).toEqual([1]);
    expect(ecsMock.calls()).toHaveLength(0);
  });
});

describe("what the handler does not handle", () => {
  it.each([
    [
      "a Scheduled Event with the sweep off",
      () => loadEvent("scheduled-sweep.json"),
      { sweep: false },
      "SWEEP_DISABLED",
      "a scheduled event arrived but DNS_CACHE_SWEEP is off",
    ],
    [
      "any other event",
      () => loadEvent("deployment-completed.json"),
      {},
      "UNRECOGNISED_EVENT",
      "neither a Task State Change nor a Scheduled Event",
    ],
  ])("%s is ignored with a reason and a message saying why", async (_, event, config, reason, message) => {
    const summary = await handleHealthEvent(event(), deps(config));
    expect(summary).toMatchObject({ trigger: "ignored", ignored: { [reason]: 1 } });
    expect(observer.ignoredLog).toEqual([{ reason, count: 1, about: { message } }]);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it("an SQS batch without unreadable bodies sets nothing aside", async () => {
    describeFrom([task("t")]);
    const summary = await handleHealthEvent(sqs([stateChange("t")]), deps());
    expect(summary.ignored).toEqual({});
    expect(observer.ignoredLog).toEqual([]);
    expect(summary.counts.HEALTHY).toBe(1);
  });
});

// ------------------------------------------------------------------ Task State Change events

describe("Task State Change batches: what is set aside, and why", () => {
  const malformed = (edit: (e: Record<string, unknown>, d: Record<string, unknown>) => void) => {
    const event = stateChange("t");
    edit(event, event.detail as Record<string, unknown>);
    return event;
  };

  it.each([
    ["an account that is not 12 digits", malformed((e) => (e.account = "12345")), /^account: /],
    ["an account with a prefix", malformed((e) => (e.account = "x123456789012")), /^account: /],
    ["an account with a suffix", malformed((e) => (e.account = "123456789012x")), /^account: /],
    ["an empty region", malformed((e) => (e.region = "")), /^region: /],
    ["a task ARN that is not an ARN", malformed((_, d) => (d.taskArn = "task/prod/t")), /^detail\.taskArn: /],
    ["a negative version", malformed((_, d) => (d.version = -1)), /^detail\.version: /],
    [
      "a container without a name",
      malformed((_, d) => (d.containers = [{}])),
      /^detail\.containers\.0\.name: /,
    ],
    [
      "a fractional exit code",
      malformed((_, d) => (d.containers = [{ name: "dns-cache", exitCode: 1.5 }])),
      /^detail\.containers\.0\.exitCode: /,
    ],
  ])("refuses %s as MALFORMED_EVENT, naming the field, without any call", async (_, event, message) => {
    const summary = await handleHealthEvent(sqs([event]), deps());
    expect(summary.ignored).toEqual({ MALFORMED_EVENT: 1 });
    expect(observer.ignoredLog).toEqual([
      { reason: "MALFORMED_EVENT", count: 1, about: { message: expect.stringMatching(message) } },
    ]);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it("sets aside other events of a batch (NOT_A_TASK_STATE_CHANGE) and tasks without the sidecar (NOT_OURS)", async () => {
    const summary = await handleHealthEvent(
      sqs([loadEvent("deployment-completed.json"), stateChange("x", { sidecar: null })]),
      deps(),
    );
    expect(summary.ignored).toEqual({ NOT_A_TASK_STATE_CHANGE: 1, NOT_OURS: 1 });
    expect(observer.ignoredLog.map((i) => [i.reason, i.about?.message])).toEqual([
      ["NOT_A_TASK_STATE_CHANGE", "not an ECS Task State Change event"],
      ["NOT_OURS", "the task runs no dns-cache container"],
    ]);
  });

  it("accepts null optional fields (as EventBridge may send them)", async () => {
    describeFrom([task("t")]);
    const event = malformed((_, d) => {
      d.startedAt = null;
      d.desiredStatus = null;
      d.containers = [
        { name: "dns-cache", lastStatus: null, healthStatus: null, exitCode: null, reason: null },
      ];
    });
    const summary = await handleHealthEvent(event, deps());
    expect(summary.ignored).toEqual({});
    expect(summary.counts.HEALTHY).toBe(1);
  });

  it("names the tasks it sets aside: duplicates, stale versions, and tasks no longer running", async () => {
    describeFrom([]);
    await handleHealthEvent(
      sqs([
        stateChange("t", { version: 5 }),
        stateChange("t", { version: 5 }),
        stateChange("t", { version: 4 }),
        stateChange("s", { lastStatus: "STOPPED", desiredStatus: "STOPPED" }),
      ]),
      deps(),
    );
    expect(observer.ignoredLog).toEqual([
      { reason: "DUPLICATE_EVENT", count: 1, about: { taskArn: taskArn("prod", "t") } },
      { reason: "STALE_EVENT", count: 1, about: { taskArn: taskArn("prod", "t") } },
      {
        reason: "TASK_NOT_RUNNING",
        count: 1,
        about: { taskArn: taskArn("prod", "s"), clusterArn: clusterArn("prod") },
      },
      { reason: "TASK_MISSING", count: 1, about: { taskArn: taskArn("prod", "t") } },
    ]);
  });

  it("a task described without the sidecar (it was replaced since) is not ours; one described but unusable is NOT_DESCRIBED", async () => {
    const { clusterArn: _, ...withoutCluster } = task("odd");
    describeFrom([task("gone", { sidecar: null }), withoutCluster as Task]);
    const summary = await handleHealthEvent(sqs([stateChange("gone"), stateChange("odd")]), deps());
    expect(summary.ignored).toEqual({ NOT_OURS: 1, NOT_DESCRIBED: 1 });
    expect(observer.ignoredLog).toContainEqual({
      reason: "NOT_OURS",
      count: 1,
      about: { taskArn: taskArn("prod", "gone") },
    });
    expect(observer.ignoredLog).toContainEqual({
      reason: "NOT_DESCRIBED",
      count: 1,
      about: { taskArn: taskArn("prod", "odd"), clusterArn: clusterArn("prod") },
    });
  });

  it("DescribeTasks failures other than MISSING are reported with the task, ECS's reason and detail", async () => {
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [],
      failures: [
        { arn: taskArn("prod", "t"), reason: "ACCESS_DENIED" },
        { arn: taskArn("prod", "u"), detail: "odd" },
      ],
    });
    const summary = await handleHealthEvent(sqs([stateChange("t"), stateChange("u")]), deps());
    expect(summary.ignored).toEqual({ DESCRIBE_FAILED: 2 });
    expect(observer.ignoredLog).toEqual([
      {
        reason: "DESCRIBE_FAILED",
        count: 1,
        about: { taskArn: taskArn("prod", "t"), message: "ACCESS_DENIED" },
      },
      { reason: "DESCRIBE_FAILED", count: 1, about: { taskArn: taskArn("prod", "u") } },
    ]);
    expect(observer.problemsAbout).toEqual([
      {
        reason: "DESCRIBE_FAILED",
        message: "DescribeTasks failure: ACCESS_DENIED",
        about: { taskArn: taskArn("prod", "t") },
      },
      {
        reason: "DESCRIBE_FAILED",
        message: "DescribeTasks failure: no reason",
        about: { taskArn: taskArn("prod", "u"), detail: "odd" },
      },
    ]);
  });

  it("a task whose cluster is gone is TASK_MISSING, with the cluster and ECS's message", async () => {
    const { ClusterNotFoundException } = await import("@aws-sdk/client-ecs");
    ecsMock
      .on(DescribeTasksCommand)
      .rejects(new ClusterNotFoundException({ message: "Cluster not found.", $metadata: {} }));
    const summary = await handleHealthEvent(sqs([stateChange("a"), stateChange("b")]), deps());
    expect(summary.ignored).toEqual({ TASK_MISSING: 2 });
    expect(observer.ignoredLog).toEqual([
      {
        reason: "TASK_MISSING",
        count: 2,
        about: { clusterArn: clusterArn("prod"), message: `cluster ${clusterArn("prod")} was not found` },
      },
    ]);
    expect(summary.callsFailed).toBe(0);
  });

  it("a member account whose role cannot be assumed fails the batch with its reason, so SQS redelivers it", async () => {
    const d = deps(
      {},
      {
        ecsFor: async () => {
          throw new Error("AccessDenied: not authorized to assume dns-cache-member");
        },
      },
    );
    const error = await handleHealthEvent(stateChange("t"), d).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "RetryableError",
      reason: "ERROR",
      message:
        "1 call(s) failed after the SDK's retries (the first: Error: AccessDenied: not authorized to assume dns-cache-member)",
    });
    expect((error as Error).cause).toMatchObject({
      reason: "ERROR",
      message: "Error: AccessDenied: not authorized to assume dns-cache-member",
    });
    expect(observer.problemsAbout).toEqual([
      {
        reason: "ERROR",
        message: "Error: AccessDenied: not authorized to assume dns-cache-member",
        about: { clusterArn: clusterArn("prod") },
      },
    ]);
    expect(observer.summaries[0]).toMatchObject({ callsFailed: 1, tasksExamined: 1 });
  });

  it("a batch that alerted is not retried when another cluster's call failed (it would alert twice)", async () => {
    describeFrom([task("u", { cluster: "a", sidecar: { healthStatus: "UNHEALTHY" } })]);
    ecsMock.on(DescribeTasksCommand, { cluster: clusterArn("b") }).rejects(throttled());
    const summary = await handleHealthEvent(
      sqs([stateChange("u", { cluster: "a" }), stateChange("x", { cluster: "b" })]),
      deps(),
    );
    expect(summary).toMatchObject({ alertsSent: 1, callsFailed: 1, counts: { UNHEALTHY: 1 } });
  });

  it("a sidecar restarted since DescribeTasks answered is judged anew, not as stopped or still unhealthy", async () => {
    // DescribeTasks (version 5) still shows the exited sidecar; the newer event (6) says it runs again.
    describeFrom([
      task("t", { version: 5, sidecar: { lastStatus: "STOPPED", healthStatus: "UNHEALTHY", exitCode: 1 } }),
    ]);
    const summary = await handleHealthEvent(
      stateChange("t", { version: 6, sidecar: { lastStatus: "RUNNING" } }),
      deps(),
    );
    expect(summary.counts).toMatchObject({ STOPPED: 0, UNHEALTHY: 0, UNKNOWN: 1 });
    expect(observer.findings).toEqual([
      expect.objectContaining({ kind: "UNKNOWN", code: "NO_HEALTH_STATUS", status: "RUNNING/UNKNOWN" }),
    ]);
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it("the grace runs from the task's real start, even when a lagging DescribeTasks knows only its creation", async () => {
    // Created 90 s ago (a long image pull), started 5 s ago: DescribeTasks (1) still says PENDING.
    const lagging = task("t", { version: 1, lastStatus: "PENDING", sidecar: { lastStatus: "PENDING" } });
    delete lagging.startedAt;
    lagging.createdAt = new Date(NOW - 90_000);
    const started = stateChange("t", { version: 2 });
    (started.detail as Record<string, unknown>).startedAt = new Date(NOW - 5_000).toISOString();
    describeFrom([lagging]);
    const summary = await handleHealthEvent(started, deps());
    expect(summary.counts).toMatchObject({ STARTING: 1, UNKNOWN: 0 });
    expect(observer.findings).toEqual([]);
    // The other way round: an event that knows only the creation never moves a known start back.
    const described = task("t", {
      version: 1,
      sidecar: { healthStatus: "UNKNOWN" },
      startedAt: new Date(NOW - 5_000),
    });
    const createdOnly = stateChange("t", { version: 2 });
    const detail = createdOnly.detail as Record<string, unknown>;
    detail.startedAt = null;
    detail.createdAt = new Date(NOW - 90_000).toISOString();
    describeFrom([described]);
    expect((await handleHealthEvent(createdOnly, deps())).counts).toMatchObject({ STARTING: 1, UNKNOWN: 0 });
    // An event without any time: DescribeTasks' start decides.
    const timelessEvent = stateChange("t", { version: 2 });
    const td = timelessEvent.detail as Record<string, unknown>;
    td.startedAt = null;
    td.createdAt = null;
    describeFrom([described]);
    expect((await handleHealthEvent(timelessEvent, deps())).counts).toMatchObject({
      STARTING: 1,
      UNKNOWN: 0,
    });
    // A description without any time: the event's start decides.
    const timeless = task("t", { version: 1, sidecar: { healthStatus: "UNKNOWN" } });
    delete timeless.startedAt;
    delete timeless.createdAt;
    describeFrom([timeless]);
    expect((await handleHealthEvent(started, deps())).counts).toMatchObject({ STARTING: 1, UNKNOWN: 0 });
  });

  it("a newer event that the sidecar exited keeps DescribeTasks' health, exit code and reason where it has none", async () => {
    describeFrom([
      task("t", {
        version: 5,
        sidecar: { lastStatus: "STOPPED", exitCode: 137, reason: "OutOfMemoryError" },
      }),
      task("u", { version: 5 }),
    ]);
    const noDetails = stateChange("t", { version: 6, sidecar: { lastStatus: "STOPPED" } });
    // The newer event names only the sidecar: the other containers keep what DescribeTasks said.
    const stopped = stateChange("u", { version: 6, sidecar: { lastStatus: "STOPPED", exitCode: 1 } });
    const d = stopped.detail as { containers: Array<{ name: string }> };
    d.containers = d.containers.filter((c) => c.name === "dns-cache");
    await handleHealthEvent(sqs([noDetails, stopped]), deps());
    expect(observer.findings.map((f) => [f.taskArn, f.status, f.exitCode, f.reason])).toEqual([
      [taskArn("prod", "t"), "STOPPED/HEALTHY", 137, "OutOfMemoryError"],
      [taskArn("prod", "u"), "STOPPED/HEALTHY", 1, "the cache sidecar exited while the task runs"],
    ]);
  });

  it("reads an event's start time given in epoch milliseconds", async () => {
    const lagging = task("t", { version: 1, lastStatus: "PENDING", sidecar: { healthStatus: "UNKNOWN" } });
    delete lagging.startedAt;
    lagging.createdAt = new Date(NOW - 90_000);
    describeFrom([lagging]);
    const started = stateChange("t", { version: 2 });
    (started.detail as Record<string, unknown>).startedAt = NOW - 5_000;
    expect((await handleHealthEvent(started, deps())).counts).toMatchObject({ STARTING: 1, UNKNOWN: 0 });
  });

  it("events without a version: repeats are duplicates, and none overrides what DescribeTasks answered", async () => {
    const unversioned = (o: Parameters<typeof stateChange>[1] = {}) => {
      const event = stateChange("t", o);
      delete (event.detail as Record<string, unknown>).version;
      return event;
    };
    const described = task("t", { sidecar: { healthStatus: "HEALTHY" } });
    delete described.version;
    describeFrom([described]);
    const summary = await handleHealthEvent(
      sqs([unversioned({ sidecar: { lastStatus: "STOPPED", exitCode: 1 } }), unversioned()]),
      deps(),
    );
    expect(summary.ignored).toEqual({ DUPLICATE_EVENT: 1 });
    expect(summary.counts).toMatchObject({ HEALTHY: 1, STOPPED: 0 });
  });

  it("a newer event's statuses win over DescribeTasks', and DescribeTasks' fill what the event leaves out", async () => {
    // DescribeTasks (6) lags: the task still PENDING; the event (7) says RUNNING.
    describeFrom([task("t", { version: 6, lastStatus: "PENDING" })]);
    expect((await handleHealthEvent(stateChange("t", { version: 7 }), deps())).counts.HEALTHY).toBe(1);
    // An event (7) without a desired status: DescribeTasks' (STOPPED: being stopped) decides.
    describeFrom([task("t", { version: 6, desiredStatus: "STOPPED" })]);
    const silent = stateChange("t", { version: 7 });
    delete (silent.detail as Record<string, unknown>).desiredStatus;
    const summary = await handleHealthEvent(silent, deps());
    expect(summary.ignored).toEqual({ TASK_NOT_RUNNING: 1 });
    expect(observer.ignoredLog).toEqual([
      { reason: "TASK_NOT_RUNNING", count: 1, about: { taskArn: taskArn("prod", "t") } },
    ]);
    expect(summary.counts.HEALTHY).toBe(0);
  });
});

// ------------------------------------------------------------------ the sweep's failures and edge cases

describe("the sweep: failures and odd answers", () => {
  it("a task DescribeTasks answers without its ARNs is MALFORMED_TASK, the rest of the page is counted", async () => {
    fakeEcs({ clusters: { prod: [task("a"), task("b")] } });
    const { clusterArn: _, ...broken } = task("b");
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task("a"), broken as Task], failures: [] });
    const summary = await sweep(deps());
    expect(summary).toMatchObject({
      counts: { HEALTHY: 1 },
      ignored: { MALFORMED_TASK: 1 },
      clustersScanned: 1,
    });
    expect(observer.ignoredLog).toEqual([
      { reason: "MALFORMED_TASK", count: 1, about: { taskArn: taskArn("prod", "b") } },
    ]);
  });

  it("a cluster whose DescribeTasks fails is not counted as scanned and gets no metrics; the others do", async () => {
    fakeEcs({ clusters: { a: [task("a", { cluster: "a" })], b: [task("b", { cluster: "b" })] } });
    ecsMock.on(DescribeTasksCommand, { cluster: clusterArn("b") }).rejects(throttled());
    const summary = await sweep(deps());
    expect(summary).toMatchObject({ clustersScanned: 1, callsFailed: 1, counts: { HEALTHY: 1 } });
    expect([...observer.clusters.keys()]).toEqual(["a"]);
    expect(observer.problemsAbout).toEqual([
      { reason: "THROTTLED", message: expect.any(String), about: { clusterArn: clusterArn("b") } },
    ]);
  });

  it("a cluster whose ListTasks fails is reported with the cluster, and not counted as scanned", async () => {
    fakeEcs({ clusters: { a: [task("a", { cluster: "a" })] } });
    const { ListTasksCommand } = await import("@aws-sdk/client-ecs");
    ecsMock.on(ListTasksCommand).rejects(throttled());
    const summary = await sweep(deps());
    expect(summary).toMatchObject({ clustersScanned: 0, callsFailed: 1 });
    expect(observer.problemsAbout).toEqual([
      { reason: "THROTTLED", message: expect.any(String), about: { clusterArn: clusterArn("a") } },
    ]);
  });

  it("a cluster deleted between ListTasks and DescribeTasks is CLUSTER_NOT_FOUND, not a failed call", async () => {
    const { ClusterNotFoundException } = await import("@aws-sdk/client-ecs");
    fakeEcs({ clusters: { a: [task("a", { cluster: "a" })] } });
    ecsMock
      .on(DescribeTasksCommand)
      .rejects(new ClusterNotFoundException({ message: "Cluster not found.", $metadata: {} }));
    const summary = await sweep(deps());
    expect(summary).toMatchObject({ clustersScanned: 0, callsFailed: 0, ignored: { CLUSTER_NOT_FOUND: 1 } });
    expect(observer.ignoredLog).toEqual([
      { reason: "CLUSTER_NOT_FOUND", count: 1, about: { clusterArn: clusterArn("a") } },
    ]);
    expect(observer.problemsAbout).toEqual([
      {
        reason: "CLUSTER_NOT_FOUND",
        message: `cluster ${clusterArn("a")} was not found`,
        about: { clusterArn: clusterArn("a") },
      },
    ]);
  });

  it("a revision that cannot be read leaves its tasks DRIFT_NOT_CHECKED and reports the failed call", async () => {
    const source = tdArn("app", 7);
    fakeEcs({
      clusters: {
        a: [
          task("a1", { cluster: "a", sidecar: null, taskDefinitionArn: source }),
          task("a2", { cluster: "a", sidecar: null, taskDefinitionArn: source }),
        ],
      },
    });
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(throttled());
    const summary = await sweep(deps());
    expect(summary).toMatchObject({
      counts: { DRIFT: 0 },
      ignored: { DRIFT_NOT_CHECKED: 2 },
      callsFailed: 1,
    });
    expect(observer.ignoredLog).toEqual([
      { reason: "DRIFT_NOT_CHECKED", count: 2, about: { taskDefinitionArn: source } },
    ]);
    expect(observer.problemsAbout).toEqual([
      { reason: "THROTTLED", message: expect.any(String), about: { taskDefinitionArn: source } },
    ]);
    // A sweep is retried by the next one: it never throws.
    expect(observer.summaries).toHaveLength(1);
  });

  it("an opted-in revision the injector refuses is INJECTION_REFUSED, not drift (reported when registered)", async () => {
    const host = tdArn("host-app", 2);
    fakeEcs({
      clusters: { a: [task("a1", { cluster: "a", sidecar: null, taskDefinitionArn: host })] },
      taskDefinitions: {
        [host]: {
          taskDefinition: {
            taskDefinitionArn: host,
            family: "host-app",
            networkMode: "host",
            containerDefinitions: [{ name: "app", image: "x", memory: 128 }],
          },
          tags: OPTED_IN,
          $metadata: {},
        },
      },
    });
    const summary = await sweep(deps());
    expect(summary).toMatchObject({ counts: { DRIFT: 0 }, ignored: { INJECTION_REFUSED: 1 } });
    expect(observer.ignoredLog).toEqual([
      {
        reason: "INJECTION_REFUSED",
        count: 1,
        about: { clusterArn: clusterArn("a"), taskDefinitionArn: host },
      },
    ]);
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it("an opted-in revision the engine cannot read is INJECTION_REFUSED, never drift nor a crash", async () => {
    const odd = tdArn("odd", 1);
    fakeEcs({
      clusters: { a: [task("a1", { cluster: "a", sidecar: null, taskDefinitionArn: odd })] },
      taskDefinitions: {
        [odd]: {
          taskDefinition: { taskDefinitionArn: odd, family: "odd", containerDefinitions: [{ image: "x" }] },
          tags: OPTED_IN,
          $metadata: {},
        },
      },
    });
    const summary = await sweep(deps());
    expect(summary).toMatchObject({
      counts: { DRIFT: 0 },
      ignored: { INJECTION_REFUSED: 1 },
      callsFailed: 0,
    });
  });

  it("drift alerts carry the full task count and a sample of 10 tasks", async () => {
    const source = tdArn("app", 7);
    const ids = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, "0")}`);
    fakeEcs({
      clusters: { a: ids.map((id) => task(id, { cluster: "a", sidecar: null, taskDefinitionArn: source })) },
      taskDefinitions: { [source]: taskDefinition(source, ["app"], OPTED_IN) },
    });
    const summary = await sweep(deps());
    expect(summary.counts.DRIFT).toBe(12);
    expect(detailOf()).toEqual({
      account: ACCOUNT,
      region: REGION,
      clusterArn: clusterArn("a"),
      taskArn: taskArn("a", "t00"),
      taskDefinitionArn: source,
      family: "app",
      status: "NO_SIDECAR",
      reason: "the family is opted in but the task runs a revision without the cache sidecar",
      taskCount: 12,
      taskArns: ids.slice(0, 10).map((id) => taskArn("a", id)),
      code: "DRIFT",
    });
  });
});

// ------------------------------------------------------------------ the node cache daemon (bridge mode)

describe("the sweep: the node cache daemon", () => {
  const daemon = tdArn("dns-cache-node-a", 1);
  const bridgeInjected = tdArn("web", 5);
  const instance = (n: number) => `arn:aws:ecs:us-east-1:123456789012:container-instance/a/i${n}`;
  const onInstance = (t: Task, n: number): Task => ({ ...t, containerInstanceArn: instance(n) });
  const nodeCache = (id: string, n: number, replica: Partial<Container>, o: Partial<Task> = {}): Task => ({
    ...onInstance(task(id, { cluster: "a", sidecar: null, taskDefinitionArn: daemon }), n),
    containers: [
      { name: "dns-cache-node", lastStatus: "RUNNING", healthStatus: "HEALTHY" },
      { name: "dns-cache-node-2", lastStatus: "RUNNING", healthStatus: "HEALTHY", ...replica },
    ],
    ...o,
  });
  const bridgeTask = (id: string, n: number) =>
    onInstance(task(id, { cluster: "a", sidecar: null, taskDefinitionArn: bridgeInjected }), n);

  function injectedWeb() {
    const injected = inject({
      family: "web",
      networkMode: "bridge",
      requiresCompatibilities: ["EC2"],
      containerDefinitions: [{ name: "web", image: "x", memory: 128 }],
      tags: OPTED_IN,
    });
    if (injected.outcome !== "injected") throw new Error("refused");
    return {
      [bridgeInjected]: {
        taskDefinition: { ...(injected.definition as TaskDefinition), taskDefinitionArn: bridgeInjected },
        tags: injected.definition.tags,
        $metadata: {},
      },
    };
  }

  it("a replica that exited is NODE_CACHE_STOPPED, alerted with its exit code, the instance and the task", async () => {
    fakeEcs({
      clusters: {
        a: [
          nodeCache("n1", 1, {
            lastStatus: "STOPPED",
            healthStatus: undefined,
            exitCode: 137,
            reason: "OOM",
          }),
        ],
      },
    });
    const summary = await sweep(deps());
    expect(summary.nodeCache).toEqual({
      HEALTHY: 0,
      UNHEALTHY: 0,
      STARTING: 0,
      STOPPED: 1,
      UNKNOWN: 0,
      MISSING: 0,
    });
    const [entry] = sentEntries();
    expect(entry?.DetailType).toBe("DNS Cache Node Cache Unhealthy");
    expect(entry?.Resources).toEqual([clusterArn("a"), instance(1), taskArn("a", "n1")]);
    expect(detailOf()).toEqual({
      account: ACCOUNT,
      region: REGION,
      clusterArn: clusterArn("a"),
      taskArn: taskArn("a", "n1"),
      taskDefinitionArn: daemon,
      family: "dns-cache-node-a",
      status: "STOPPED",
      exitCode: 137,
      reason: "a node cache replica exited on this instance",
      containerInstanceArn: instance(1),
      code: "NODE_CACHE_STOPPED",
    });
  });

  it("the worst replica decides: STOPPED over UNHEALTHY over UNKNOWN over STARTING over HEALTHY", async () => {
    const started = new Date(NOW - 1_000);
    fakeEcs({
      clusters: {
        a: [
          nodeCache(
            "stopped",
            1,
            { lastStatus: "STOPPED" },
            {
              containers: [
                { name: "dns-cache-node", lastStatus: "RUNNING", healthStatus: "UNHEALTHY" },
                { name: "dns-cache-node-2", lastStatus: "STOPPED", exitCode: 1 },
              ],
            },
          ),
          nodeCache(
            "unhealthy",
            2,
            {},
            {
              containers: [
                { name: "dns-cache-node", lastStatus: "RUNNING", healthStatus: "UNHEALTHY" },
                { name: "dns-cache-node-2", lastStatus: "RUNNING", healthStatus: "UNKNOWN" },
              ],
            },
          ),
          nodeCache(
            "unknown",
            3,
            {},
            {
              containers: [
                { name: "dns-cache-node", lastStatus: "RUNNING", healthStatus: "UNKNOWN" },
                { name: "dns-cache-node-2", lastStatus: "RUNNING", healthStatus: "HEALTHY" },
              ],
            },
          ),
          nodeCache("starting", 4, { healthStatus: "UNKNOWN" }, { startedAt: started }),
          nodeCache("healthy", 5, {}),
        ],
      },
    });
    const summary = await sweep(deps());
    expect(summary.nodeCache).toEqual({
      HEALTHY: 1,
      UNHEALTHY: 1,
      STARTING: 1,
      STOPPED: 1,
      UNKNOWN: 1,
      MISSING: 0,
    });
    // Only a daemon that is not serving is alerted: UNKNOWN and STARTING are counted.
    expect(
      sentEntries()
        .map((e) => JSON.parse(e.Detail ?? "{}").code)
        .sort(),
    ).toEqual(["NODE_CACHE_STOPPED", "NODE_CACHE_UNHEALTHY"]);
  });

  it("a daemon task on its way out does not serve its instance: its bridge tasks are reported MISSING", async () => {
    fakeEcs({
      clusters: {
        a: [bridgeTask("w1", 1), nodeCache("n1", 1, {}, { lastStatus: "DEACTIVATING" })],
      },
      taskDefinitions: injectedWeb(),
    });
    const summary = await sweep(deps());
    expect(summary.nodeCache).toMatchObject({ HEALTHY: 0, MISSING: 1 });
    expect(summary.ignored).toMatchObject({ TASK_NOT_RUNNING: 1, BRIDGE_INJECTED: 1 });
    expect(sentEntries().map((e) => e.DetailType)).toEqual(["DNS Cache Node Cache Missing"]);
    expect(detailOf()).toEqual({
      account: ACCOUNT,
      region: REGION,
      clusterArn: clusterArn("a"),
      taskArn: taskArn("a", "w1"),
      taskDefinitionArn: bridgeInjected,
      family: "web",
      status: "NO_NODE_CACHE",
      reason:
        "bridge tasks injected with the node cache run on this instance, but no node cache daemon task runs there: each of their lookups waits for a resolver timeout (deploy infra/node-cache.yaml on the cluster)",
      taskCount: 1,
      taskArns: [taskArn("a", "w1")],
      containerInstanceArn: instance(1),
      code: "NODE_CACHE_MISSING",
    });
  });

  it("MISSING is judged per instance, and only on clusters described in full (a failed page could hold the daemon)", async () => {
    const page1 = Array.from({ length: 100 }, (_, i) => bridgeTask(`w${i}`, 1));
    fakeEcs({
      clusters: { a: [...page1, nodeCache("n2", 2, {}), bridgeTask("x", 2)] },
      taskDefinitions: injectedWeb(),
    });
    // Every instance has its daemon or none: i1 has none, i2 has one.
    expect((await sweep(deps())).nodeCache).toMatchObject({ MISSING: 1, HEALTHY: 1 });
    // One alert for i1: every task counted, 10 named.
    expect(sentEntries()).toHaveLength(1);
    expect(detailOf()).toMatchObject({
      containerInstanceArn: instance(1),
      taskCount: 100,
      taskArns: page1.slice(0, 10).map((t) => t.taskArn),
    });
    // The same fleet, the second page's DescribeTasks failing: i1 might have its daemon there.
    ecsMock.resetHistory();
    observer = recorder();
    ecsMock.on(DescribeTasksCommand, { tasks: [taskArn("a", "n2"), taskArn("a", "x")] }).rejects(throttled());
    const partial = await sweep(deps());
    expect(partial).toMatchObject({ clustersScanned: 0, callsFailed: 1 });
    expect(partial.nodeCache.MISSING).toBe(0);
    expect(observer.findings.filter((f) => f.kind === "NODE_CACHE_MISSING")).toEqual([]);
  });
});

// ------------------------------------------------------------------ what the alerts say

describe("the alerts' detail", () => {
  it("an unhealthy sidecar: the status, the code, and a sentence saying what is wrong", async () => {
    describeFrom([task("u", { sidecar: { healthStatus: "UNHEALTHY" } })]);
    await handleHealthEvent(stateChange("u"), deps());
    expect(detailOf()).toEqual({
      account: ACCOUNT,
      region: REGION,
      clusterArn: clusterArn("prod"),
      taskArn: taskArn("prod", "u"),
      taskDefinitionArn: tdArn("app", 8),
      family: "app",
      status: "RUNNING/UNHEALTHY",
      reason: "the cache sidecar's health check is failing",
      code: "HEALTH_CHECK_FAILING",
    });
  });

  it("a sidecar that exited without a reason from ECS gets the generic one; a long reason is clipped to 512", async () => {
    describeFrom([
      task("x", { sidecar: { lastStatus: "STOPPED", exitCode: 1 } }),
      task("y", {
        sidecar: { lastStatus: "STOPPED", exitCode: 2, reason: `CannotStart: ${"x".repeat(600)}` },
      }),
    ]);
    await handleHealthEvent(sqs([stateChange("x"), stateChange("y")]), deps());
    const byTask = Object.fromEntries(
      sentEntries().map((e) => [JSON.parse(e.Detail ?? "{}").taskArn, JSON.parse(e.Detail ?? "{}")]),
    );
    expect(byTask[taskArn("prod", "x")]).toMatchObject({
      exitCode: 1,
      reason: "the cache sidecar exited while the task runs",
    });
    const clipped = byTask[taskArn("prod", "y")].reason as string;
    expect(clipped).toHaveLength(512);
    expect(clipped).toBe(`CannotStart: ${"x".repeat(498)}…`);
    // 512 characters exactly: kept whole.
    eventsMock.resetHistory();
    const exact = `CannotStart: ${"y".repeat(499)}`;
    describeFrom([task("z", { sidecar: { lastStatus: "STOPPED", exitCode: 3, reason: exact } })]);
    await handleHealthEvent(stateChange("z"), deps());
    expect(detailOf().reason).toBe(exact);
  });

  it("a sidecar that never reported a status past the grace is UNKNOWN, logged with status NONE, not alerted", async () => {
    describeFrom([task("n", { sidecar: { lastStatus: undefined, healthStatus: undefined } })]);
    const summary = await handleHealthEvent(stateChange("n"), deps());
    expect(summary.counts.UNKNOWN).toBe(1);
    expect(observer.findings).toEqual([
      expect.objectContaining({ kind: "UNKNOWN", code: "SIDECAR_NOT_STARTED", status: "NONE" }),
    ]);
    expect(observer.findings[0]).not.toHaveProperty("reason");
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
  });

  it("the grace is counted from the task's creation when ECS has not set startedAt yet", async () => {
    const fresh = task("f", { sidecar: { lastStatus: "PENDING" } });
    delete fresh.startedAt;
    fresh.createdAt = new Date(NOW - 5_000);
    const old = task("o", { sidecar: { lastStatus: "PENDING" } });
    delete old.startedAt;
    old.createdAt = LONG_AGO;
    describeFrom([fresh, old]);
    const summary = await handleHealthEvent(sqs([stateChange("f"), stateChange("o")]), deps());
    expect(summary.counts).toMatchObject({ STARTING: 1, UNKNOWN: 1 });
  });
});

// ------------------------------------------------------------------ logs and metrics (Powertools)

describe("the Powertools observer: levels, coverage, node cache and failure metrics", () => {
  async function observed(run: (d: HealthDeps) => Promise<unknown>) {
    const { Logger } = await import("@aws-lambda-powertools/logger");
    const { Metrics } = await import("@aws-lambda-powertools/metrics");
    const { healthObserver } = await import("#shared/health/observer.ts");
    const logger = new Logger({ serviceName: "dns-cache-health", logLevel: "DEBUG" });
    const metrics = new Metrics({ serviceName: "dns-cache-health", namespace: "DnsCache" });
    const obs = healthObserver(logger, metrics, "dns-cache-health");
    const flush = async (d: HealthDeps) => {
      await run(d).catch(() => undefined);
      metrics.publishStoredMetrics();
    };
    const lines = await captureOutput(() => flush(deps({}, { observer: obs })));
    const logs = lines.filter((l) => !("_aws" in l));
    const blobs = emf(lines);
    const perCluster = (name: string) => blobs.find((b) => b.ClusterName === name);
    // The invocation's totals: the blob without a dimension of its own.
    const totals = blobs.find((b) => !("ClusterName" in b) && !("Reason" in b) && "service" in b);
    return {
      logs,
      blobs,
      perCluster,
      totals,
      again: () => captureOutput(() => flush(deps({}, { observer: obs }))),
    };
  }

  it("a sweep: every class per cluster, the Coverage of each, the lowest, and the node cache in full", async () => {
    const source = tdArn("app", 7);
    const fleet = {
      clusters: {
        // 3 with the sidecar, 1 drifting: 75 %.
        a: [
          task("a1", { cluster: "a" }),
          task("a2", { cluster: "a" }),
          task("a3", { cluster: "a", sidecar: { healthStatus: "UNKNOWN" } }),
          task("a4", { cluster: "a", sidecar: null, taskDefinitionArn: source }),
        ],
        // 1 with the sidecar, 1 drifting: 50 %.
        b: [
          task("b1", { cluster: "b" }),
          task("b2", { cluster: "b", sidecar: null, taskDefinitionArn: source }),
        ],
        // Nothing opted in: no coverage to speak of.
        c: [],
      },
      taskDefinitions: { [source]: taskDefinition(source, ["app"], OPTED_IN) },
    };
    fakeEcs(fleet);
    const { perCluster, totals, logs, again } = await observed((d) => sweep(d));
    expect(perCluster("a")).toMatchObject({
      Coverage: 75,
      SidecarHealthy: 2,
      SidecarUnknown: 1,
      TasksWithoutSidecar: 1,
    });
    expect(perCluster("b")).toMatchObject({ Coverage: 50, TasksWithoutSidecar: 1 });
    expect(perCluster("c")).toMatchObject({ SidecarHealthy: 0, TasksWithoutSidecar: 0 });
    expect(perCluster("c")).not.toHaveProperty("Coverage");
    const coverageUnit = perCluster("a")?._aws.CloudWatchMetrics[0]?.Metrics.find(
      (m) => m.Name === "Coverage",
    );
    expect(coverageUnit).toMatchObject({ Unit: "Percent" });
    expect(totals).toMatchObject({
      SidecarHealthy: 3,
      SidecarUnhealthy: 0,
      SidecarUnknown: 1,
      TasksWithoutSidecar: 2,
      ClustersScanned: 3,
      CoverageLowest: 50,
      NodeCacheHealthy: 0,
      NodeCacheUnhealthy: 0,
      NodeCacheStarting: 0,
      NodeCacheStopped: 0,
      NodeCacheUnknown: 0,
      NodeCacheMissing: 0,
      AlertsSent: 2,
    });
    expect(totals).not.toHaveProperty("AlertsFailed");
    expect(totals).not.toHaveProperty("CallsFailed");
    // An UNKNOWN sidecar is worth an INFO line; what is alerted, a WARN line.
    expect(logs.filter((l) => l.outcome === "finding").map((l) => [l.level, l.message])).toEqual([
      ["INFO", "UNKNOWN: NO_HEALTH_STATUS"],
      ["WARN", "DRIFT: DRIFT"],
      ["WARN", "DRIFT: DRIFT"],
    ]);

    expect(logs.find((l) => l.outcome === "summary")).toMatchObject({
      level: "INFO",
      message: "summary: sweep",
      trigger: "sweep",
      clustersScanned: 3,
      counts: { DRIFT: 2 },
    });
    // The next sweep's lowest coverage is its own: every cluster now at 100 %.
    ecsMock.reset();
    eventsMock.reset();
    acceptAll();
    fakeEcs({ clusters: { a: [task("a1", { cluster: "a" })] } });
    const next = emf(await again()).find((b) => "ClustersScanned" in b);
    expect(next).toMatchObject({ CoverageLowest: 100, ClustersScanned: 1 });
  });

  it("an event: only the classes seen, no Coverage or ClustersScanned (an event sees some tasks, not the cluster)", async () => {
    describeFrom([task("h")]);
    const { perCluster, totals } = await observed((d) => handleHealthEvent(stateChange("h"), d));
    expect(perCluster("prod")).toMatchObject({ SidecarHealthy: 1 });
    for (const absent of ["SidecarUnhealthy", "TasksWithoutSidecar", "Coverage"])
      expect(perCluster("prod")).not.toHaveProperty(absent);
    expect(totals).toMatchObject({ SidecarHealthy: 1 });
    for (const absent of [
      "SidecarUnknown",
      "ClustersScanned",
      "CoverageLowest",
      "NodeCacheHealthy",
      "AlertsSent",
    ])
      expect(totals).not.toHaveProperty(absent);
  });

  it("failed alerts: an ERROR line tallying the error codes, and the AlertsFailed and CallsFailed counts", async () => {
    eventsMock.on(PutEventsCommand).resolves({
      FailedEntryCount: 2,
      Entries: [{ ErrorCode: "AccessDeniedException" }, { ErrorCode: "AccessDeniedException" }],
    });
    describeFrom([
      task("u", { sidecar: { healthStatus: "UNHEALTHY" } }),
      task("v", { sidecar: { healthStatus: "UNHEALTHY" } }),
    ]);
    ecsMock.on(DescribeTasksCommand, { cluster: clusterArn("b") }).rejects(throttled());
    const { logs, totals } = await observed((d) =>
      handleHealthEvent(sqs([stateChange("u"), stateChange("v"), stateChange("x", { cluster: "b" })]), d),
    );
    expect(logs.find((l) => l.outcome === "alerts-failed")).toMatchObject({
      level: "ERROR",
      message: "alerts failed",
      count: 2,
      errorCodes: { AccessDeniedException: 2 },
    });
    expect(totals).toMatchObject({ AlertsFailed: 2, CallsFailed: 1, SidecarUnhealthy: 2 });
    expect(logs.find((l) => l.outcome === "problem")).toMatchObject({
      level: "WARN",
      message: "problem: THROTTLED",
      reason: "THROTTLED",
      clusterArn: clusterArn("b"),
    });
  });

  it("an organisation sweep: accounts that could not be listed or swept count in CallsFailed", async () => {
    const { totals } = await observed((d) =>
      handleHealthEvent(loadEvent("scheduled-sweep.json"), {
        ...d,
        ecsFor: async () => {
          throw new Error("AccessDenied");
        },
        sweepTargets: async () => ({
          targets: [{ account: "333333333333", region: "us-east-1" }],
          failures: [
            { account: "444444444444", region: "us-east-1", reason: "ACCESS_DENIED", message: "no" },
          ],
        }),
      }),
    );
    expect(totals).toMatchObject({ CallsFailed: 2 });
  });

  it("what is set aside: a DEBUG line naming the task, and the Ignored count in total and per Reason", async () => {
    const { logs, blobs, totals } = await observed((d) =>
      handleHealthEvent(sqs([stateChange("s", { lastStatus: "STOPPED", desiredStatus: "STOPPED" })]), d),
    );
    expect(logs.find((l) => l.outcome === "ignored")).toMatchObject({
      level: "DEBUG",
      message: "ignored: TASK_NOT_RUNNING",
      reason: "TASK_NOT_RUNNING",
      count: 1,
      taskArn: taskArn("prod", "s"),
    });
    expect(totals).toMatchObject({ Ignored: 1 });
    expect(blobs.find((b) => b.Reason === "TASK_NOT_RUNNING")).toMatchObject({ Ignored: 1 });
  });

  it("a node cache daemon's finding counts in the NodeCache metrics, never as a sidecar", async () => {
    const daemon = tdArn("dns-cache-node-a", 1);
    const n: Task = {
      ...task("n", { sidecar: null, taskDefinitionArn: daemon }),
      containerInstanceArn: "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/i1",
      containers: [{ name: "dns-cache-node", lastStatus: "RUNNING", healthStatus: "UNHEALTHY" }],
    };
    fakeEcs({ clusters: { prod: [n] } });
    const { totals, logs } = await observed((d) => sweep(d));
    expect(totals).toMatchObject({ NodeCacheUnhealthy: 1, NodeCacheHealthy: 0, SidecarUnhealthy: 0 });
    expect(logs.find((l) => l.outcome === "finding")).toMatchObject({
      level: "WARN",
      message: "NODE_CACHE_UNHEALTHY: NODE_CACHE_UNHEALTHY",
      kind: "NODE_CACHE_UNHEALTHY",
      code: "NODE_CACHE_UNHEALTHY",
      clusterName: "prod",
      containerInstanceArn: n.containerInstanceArn,
      reason: "the node cache daemon's DNS health check is failing on this instance",
    });
  });
});

// ------------------------------------------------------------------ configuration

describe("health configuration: what it accepts and how it refuses", () => {
  const name255 = "c".repeat(255);
  it("accepts cluster names and ARNs of any partition, and partner event buses by name or ARN", () => {
    const config = loadHealthConfig({
      DNS_CACHE_CLUSTERS: `${name255} arn:aws-cn:ecs:cn-north-1:123456789012:cluster/a_b-1 arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/${name255}`,
      DNS_CACHE_ALERT_BUS: "aws.partner/example.com/123/ops",
    });
    expect(config.clusters).toHaveLength(3);
    expect(config.alertBus).toBe("aws.partner/example.com/123/ops");
    expect(
      loadHealthConfig({
        DNS_CACHE_ALERT_BUS: "arn:aws-cn:events:cn-north-1:123456789012:event-bus/a.b/c_d-1",
      }).alertBus,
    ).toBe("arn:aws-cn:events:cn-north-1:123456789012:event-bus/a.b/c_d-1");
    expect(loadHealthConfig({ DNS_CACHE_ALERT_BUS: "   " }).alertBus).toBe("default");
  });

  it.each([
    ["a name with a slash", "prod/blue"],
    ["a name of 256 characters", "c".repeat(256)],
    ["an ARN with a prefix", "x:arn:aws:ecs:us-east-1:123456789012:cluster/prod"],
    ["an ARN of another service", "arn:aws:eks:us-east-1:123456789012:cluster/prod"],
    ["an ARN without a region", "arn:aws:ecs::123456789012:cluster/prod"],
    ["an ARN with an 11-digit account", "arn:aws:ecs:us-east-1:12345678901:cluster/prod"],
    ["an ARN with a bad cluster name", "arn:aws:ecs:us-east-1:123456789012:cluster/prod.blue"],
    ["an ARN with a 256-character name", `arn:aws:ecs:us-east-1:123456789012:cluster/${"c".repeat(256)}`],
  ])("refuses %s in DNS_CACHE_CLUSTERS, quoting it", (_, cluster) => {
    expect(() => loadHealthConfig({ DNS_CACHE_CLUSTERS: `prod ${cluster}` })).toThrow(
      `DNS_CACHE_CLUSTERS: expected cluster names or ARNs, got "${cluster}"`,
    );
  });

  it.each([
    ["a name with a space inside", "ops alerts"],
    ["a name of 257 characters", "b".repeat(257)],
    ["an ARN with a prefix", "x:arn:aws:events:us-east-1:123456789012:event-bus/ops"],
    ["an ARN without a region", "arn:aws:events::123456789012:event-bus/ops"],
    ["an ARN with a 13-digit account", "arn:aws:events:us-east-1:1234567890123:event-bus/ops"],
    ["an ARN with a bad bus name", "arn:aws:events:us-east-1:123456789012:event-bus/ops:1"],
  ])("refuses %s in DNS_CACHE_ALERT_BUS, quoting it", (_, bus) => {
    expect(() => loadHealthConfig({ DNS_CACHE_ALERT_BUS: bus })).toThrow(
      `DNS_CACHE_ALERT_BUS: expected an event bus name or ARN, got "${bus}"`,
    );
  });
});
