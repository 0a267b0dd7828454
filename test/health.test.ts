import {
  ClusterNotFoundException,
  type Container,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  ListTasksCommand,
  ServerException,
  type Task,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import {
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from "@aws-sdk/client-eventbridge";
import { inject } from "#shared/engine/inject.ts";
import "aws-sdk-client-mock-vitest/extend";
import type { Context } from "aws-lambda";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { type Alert, sendAlerts } from "#shared/aws/alerts.ts";
import { zeroApiCalls } from "#shared/aws/ecs-tasks.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import {
  ALERT_DETAIL_TYPES,
  classifySidecar,
  classifyTask,
  driftOf,
  freshest,
  isLive,
  newestPerTask,
  STARTING_GRACE_MS,
  type TaskView,
  taskViewOf,
} from "#shared/health/classify.ts";
import { type HealthConfig, loadHealthConfig } from "#shared/health/config.ts";
import { type HealthDeps, type HealthSummary, UNKNOWN_LOG_LIMIT } from "#shared/health/invocation.ts";
import { handleHealthEvent } from "#shared/health/monitor.ts";
import { sweep } from "#shared/health/sweep.ts";
import { parseTaskStateChange } from "#shared/health/task-state-event.ts";
import { limiter } from "#shared/runtime/concurrency.ts";
import { ConfigError } from "#shared/runtime/env.ts";
import { loadEvent } from "./helpers/events.ts";
import {
  ACCOUNT,
  acceptAll,
  captureOutput,
  clusterArn,
  describeFrom,
  ecsMock,
  emf,
  events,
  eventsMock,
  fakeEcs,
  healthDeps,
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

// ------------------------------------------------------------------ configuration

describe("health configuration", () => {
  it("has defaults for everything", () => {
    expect(loadHealthConfig({})).toEqual({
      alertBus: "default",
      sweep: true,
      clusters: [],
      sweepConcurrency: 4,
      optIn: { key: "dns-cache", value: "enabled" },
    });
  });

  it("reads every variable", () => {
    expect(
      loadHealthConfig({
        DNS_CACHE_ALERT_BUS: "arn:aws:events:us-east-1:123456789012:event-bus/ops-alerts",
        DNS_CACHE_SWEEP: "off",
        DNS_CACHE_CLUSTERS: "prod, staging  arn:aws:ecs:eu-west-1:123456789012:cluster/batch,prod",
        DNS_CACHE_SWEEP_CONCURRENCY: "20",
        DNS_CACHE_OPT_IN_TAG: "team-dns=on",
      }),
    ).toEqual({
      alertBus: "arn:aws:events:us-east-1:123456789012:event-bus/ops-alerts",
      sweep: false,
      clusters: ["prod", "staging", "arn:aws:ecs:eu-west-1:123456789012:cluster/batch"],
      sweepConcurrency: 20,
      optIn: { key: "team-dns", value: "on" },
    });
  });

  it.each([
    ["DNS_CACHE_ALERT_BUS", "no spaces allowed"],
    ["DNS_CACHE_ALERT_BUS", "arn:aws:sns:us-east-1:123456789012:topic"],
    ["DNS_CACHE_SWEEP", "yes"],
    ["DNS_CACHE_CLUSTERS", "prod, bad/name"],
    ["DNS_CACHE_SWEEP_CONCURRENCY", "0"],
    ["DNS_CACHE_SWEEP_CONCURRENCY", "21"],
    ["DNS_CACHE_SWEEP_CONCURRENCY", "four"],
    ["DNS_CACHE_OPT_IN_TAG", "dns-cache"],
  ])("refuses %s=%s at cold start, naming the variable", (variable, value) => {
    let error: unknown;
    try {
      loadHealthConfig({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ variable, reason: "INVALID_CONFIG" });
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: `));
  });
});

// ------------------------------------------------------------------ classification

const view = (t: Task): TaskView => taskViewOf(t) as TaskView;

describe("classifying a task's sidecar", () => {
  it.each([
    ["HEALTHY", { healthStatus: "HEALTHY" }, "HEALTHY"],
    ["UNHEALTHY", { healthStatus: "UNHEALTHY" }, "HEALTH_CHECK_FAILING"],
    ["UNKNOWN past the grace", { healthStatus: "UNKNOWN" }, "NO_HEALTH_STATUS"],
    ["without a health status past the grace", { healthStatus: undefined }, "NO_HEALTH_STATUS"],
    ["an unrecognised health status", { healthStatus: "DEGRADED" }, "UNRECOGNISED_HEALTH_STATUS"],
    ["an unrecognised container status", { lastStatus: "HIBERNATING" }, "UNRECOGNISED_CONTAINER_STATUS"],
    ["PENDING past the grace", { lastStatus: "PENDING", healthStatus: "UNKNOWN" }, "SIDECAR_NOT_STARTED"],
  ])("%s", (_, sidecar, code) => {
    const verdict = classifyTask(view(task("t", { sidecar })), NOW);
    expect(verdict).toMatchObject({ kind: "sidecar", health: { code } });
    if (verdict.kind === "sidecar" && !["HEALTHY", "HEALTH_CHECK_FAILING"].includes(code)) {
      expect(verdict.health.class).toBe("UNKNOWN");
    }
  });

  it("STARTING: health UNKNOWN (or the sidecar PENDING) within the grace after the task started", () => {
    const startedAt = new Date(NOW - STARTING_GRACE_MS + 1_000);
    for (const sidecar of [{ healthStatus: "UNKNOWN" }, { lastStatus: "PENDING", healthStatus: "UNKNOWN" }]) {
      expect(classifyTask(view(task("t", { sidecar, startedAt })), NOW)).toMatchObject({
        kind: "sidecar",
        health: { class: "STARTING" },
      });
    }
    const late = new Date(NOW - STARTING_GRACE_MS);
    expect(
      classifyTask(view(task("t", { sidecar: { healthStatus: "UNKNOWN" }, startedAt: late })), NOW),
    ).toMatchObject({
      health: { class: "UNKNOWN" },
    });
    // A HEALTHY sidecar is HEALTHY at once, grace or not.
    expect(classifyTask(view(task("t", { startedAt })), NOW)).toMatchObject({ health: { class: "HEALTHY" } });
  });

  it("STOPPED: the sidecar exited while the task runs, with exit code and reason", () => {
    const verdict = classifyTask(
      view(
        task("t", { sidecar: { lastStatus: "STOPPED", exitCode: 137, reason: "OutOfMemoryError: killed" } }),
      ),
      NOW,
    );
    expect(verdict).toEqual({
      kind: "sidecar",
      health: {
        class: "STOPPED",
        code: "SIDECAR_EXITED",
        lastStatus: "STOPPED",
        healthStatus: "HEALTHY",
        exitCode: 137,
        reason: "OutOfMemoryError: killed",
      },
    });
  });

  it("a task without a dns-cache container is not ours (a drift candidate)", () => {
    expect(classifyTask(view(task("t", { sidecar: null })), NOW)).toEqual({ kind: "no-sidecar" });
  });

  it("tasks not running, or being stopped, are not classified", () => {
    for (const o of [
      { lastStatus: "PENDING" },
      { lastStatus: "PROVISIONING" },
      { lastStatus: "DEACTIVATING" },
      { lastStatus: "STOPPED", desiredStatus: "STOPPED" },
      { lastStatus: "RUNNING", desiredStatus: "STOPPED" },
      { lastStatus: "SOMETHING_NEW" },
    ]) {
      expect(classifyTask(view(task("t", { ...o, sidecar: { lastStatus: "STOPPED" } })), NOW).kind).toBe(
        "not-running",
      );
    }
  });

  // A task on its way out is not live even while ECS still wants it RUNNING (ECS sets lastStatus first):
  // without a sidecar it must not become a drift candidate, nor count as "not ours".
  it.each(["DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED", "DELETED"])(
    "a task without a sidecar that is %s while desired RUNNING is not live: not-running, not no-sidecar",
    (lastStatus) => {
      const stopping = { lastStatus, desiredStatus: "RUNNING" };
      expect(isLive(stopping)).toBe(false);
      expect(classifyTask(view(task("t", { ...stopping, sidecar: null })), NOW)).toEqual({
        kind: "not-running",
        ...stopping,
      });
    },
  );

  it.each(["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", undefined])(
    "a task without a sidecar that is %s and desired RUNNING is live: no-sidecar (a drift candidate)",
    (lastStatus) => {
      expect(isLive({ lastStatus, desiredStatus: "RUNNING" })).toBe(true);
      expect(isLive({ lastStatus })).toBe(true);
      const t = task("t", { lastStatus, sidecar: null });
      if (lastStatus === undefined) delete t.lastStatus;
      expect(classifyTask(view(t), NOW)).toEqual({ kind: "no-sidecar" });
    },
  );

  it("a task desired STOPPED is not live, whatever its last status", () => {
    for (const lastStatus of ["PENDING", "RUNNING", undefined]) {
      expect(isLive({ lastStatus, desiredStatus: "STOPPED" })).toBe(false);
      expect(
        classifyTask(view(task("t", { lastStatus, desiredStatus: "STOPPED", sidecar: null })), NOW),
      ).toMatchObject({
        kind: "not-running",
        desiredStatus: "STOPPED",
      });
    }
  });

  it("never throws on odd data: no start time, clipped reasons", () => {
    expect(classifySidecar({ name: "dns-cache", lastStatus: "RUNNING" }, undefined, NOW).class).toBe(
      "UNKNOWN",
    );
    const long = classifySidecar(
      { name: "dns-cache", lastStatus: "STOPPED", reason: "x".repeat(5000) },
      NOW,
      NOW,
    );
    expect(long.reason?.length).toBeLessThanOrEqual(512);
    expect(taskViewOf({ taskArn: "arn:x" })).toBeUndefined();
  });
});

describe("ordering the events of one invocation", () => {
  it("keeps the newest version per task; repeats are duplicates, older versions stale", () => {
    const items = [
      { taskArn: "a", version: 4, n: 1 },
      { taskArn: "a", version: 6, n: 2 },
      { taskArn: "b", version: 1, n: 3 },
      { taskArn: "a", version: 5, n: 4 },
      { taskArn: "a", version: 6, n: 5 },
    ];
    const { latest, duplicates, stale } = newestPerTask(items);
    expect(latest.map((i) => i.n)).toEqual([2, 3]);
    expect(duplicates.map((i) => i.n)).toEqual([5]);
    expect(stale.map((i) => i.n).sort()).toEqual([1, 4]);
  });

  it("an event newer than DescribeTasks' answer wins for statuses; health comes from DescribeTasks", () => {
    const described = view(task("t", { version: 5, sidecar: { healthStatus: "HEALTHY" } }));
    const parsed = parseTaskStateChange(
      stateChange("t", { version: 6, sidecar: { lastStatus: "STOPPED", exitCode: 1, reason: "crashed" } }),
    );
    if (!parsed.ok) throw new Error(parsed.message);
    const merged = freshest(described, parsed.change);
    expect(merged.version).toBe(6);
    expect(merged.containers.find((c) => c.name === "dns-cache")).toMatchObject({
      lastStatus: "STOPPED",
      exitCode: 1,
      reason: "crashed",
    });
    // Older events never override a fresher description.
    const older = parseTaskStateChange(stateChange("t", { version: 3, sidecar: { lastStatus: "STOPPED" } }));
    if (!older.ok) throw new Error(older.message);
    expect(freshest(described, older.change)).toBe(described);
  });
});

describe("drift", () => {
  const optIn = { key: "dns-cache", value: "enabled" };
  const td = (names: string[], networkMode: "awsvpc" | "bridge" | "host" = "awsvpc") => ({
    family: "app",
    networkMode,
    containerDefinitions: names.map((name) => ({ name, image: "x" })),
  });
  it("opted in and no sidecar in the revision: drift", () => {
    expect(driftOf(td(["app"]), [{ key: "dns-cache", value: "enabled" }], optIn)).toBe("DRIFT");
    expect(driftOf(td(["app"]), [{ key: "dns-cache", value: "disabled" }], optIn)).toBe("NOT_OPTED_IN");
    expect(driftOf(td(["app"]), undefined, optIn)).toBe("NOT_OPTED_IN");
    expect(driftOf(td(["app", "dns-cache"]), [{ key: "dns-cache", value: "enabled" }], optIn)).toBe(
      "HAS_SIDECAR",
    );
    expect(driftOf(undefined, [], optIn)).toBe("UNKNOWN_DEFINITION");
    // Refused by the injector (reported when registered), so not drift on every sweep.
    expect(driftOf(td(["app"], "host"), [{ key: "dns-cache", value: "enabled" }], optIn)).toBe("REFUSED");
  });

  it("bridge: an injected revision running is fine; the source revision running is drift", () => {
    const enabled = [{ key: "dns-cache", value: "enabled" }];
    expect(driftOf(td(["app"], "bridge"), enabled, optIn)).toBe("DRIFT");
    const result = inject({ ...td(["app"], "bridge"), tags: enabled });
    if (result.outcome !== "injected") throw new Error("refused");
    expect(driftOf(result.definition as TaskDefinition, result.definition.tags, optIn)).toBe(
      "BRIDGE_INJECTED",
    );
  });
});

// ------------------------------------------------------------------ Task State Change events

describe("Task State Change events", () => {
  it("describes the task of the running sample and counts a healthy sidecar, without alerts", async () => {
    const sample = loadEvent("task-state-change-running.json");
    const detail = sample.detail as { taskArn: string; clusterArn: string };
    describeFrom([{ ...task("7d3e1f0c9a2b4c5d8e6f0a1b2c3d4e5f"), version: 4 }]);
    const d = deps();
    const summary = await handleHealthEvent(sample, d);
    expect(ecsMock).toHaveReceivedCommandExactlyOnceWith(DescribeTasksCommand, {
      cluster: detail.clusterArn,
      tasks: [detail.taskArn],
    });
    expect(d.ecsFor).toHaveBeenCalledWith({ account: ACCOUNT, region: REGION });
    expect(summary).toMatchObject({
      trigger: "event",
      counts: { HEALTHY: 1, UNHEALTHY: 0, STARTING: 0, STOPPED: 0, UNKNOWN: 0, DRIFT: 0 },
      clustersScanned: 0,
      tasksExamined: 1,
      apiCalls: { ListClusters: 0, ListTasks: 0, DescribeTasks: 1, DescribeTaskDefinition: 0, PutEvents: 0 },
      alertsSent: 0,
    });
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
    expect(observer.clusters.get("prod")).toMatchObject({ HEALTHY: 1 });
    expect(observer.zerosFor.get("prod")).toBe(false);
    expect(observer.summaries).toEqual([summary]);
  });

  it("reports a stopped sidecar (sample) with exit code and reason: a log line and one alert", async () => {
    const sample = loadEvent("task-state-change-stopped-sidecar.json");
    const detail = sample.detail as { taskArn: string };
    describeFrom([
      task("7d3e1f0c9a2b4c5d8e6f0a1b2c3d4e5f", {
        version: 6,
        sidecar: {
          lastStatus: "STOPPED",
          exitCode: 137,
          reason: "OutOfMemoryError: Container killed due to memory usage",
        },
      }),
    ]);
    const summary = await handleHealthEvent(sample, deps({ alertBus: "ops" }));
    expect(summary.counts.STOPPED).toBe(1);
    expect(summary.alertsSent).toBe(1);
    expect(observer.findings).toHaveLength(1);
    expect(observer.findings[0]).toMatchObject({
      kind: "STOPPED",
      code: "SIDECAR_EXITED",
      taskArn: detail.taskArn,
      family: "app",
      exitCode: 137,
    });
    expect(eventsMock).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const [entry] = sentEntries();
    expect(entry).toMatchObject({
      Source: "dns-cache",
      DetailType: "DNS Cache Sidecar Stopped",
      EventBusName: "ops",
      Resources: [clusterArn("prod"), detail.taskArn],
    });
    expect(JSON.parse(entry?.Detail ?? "{}")).toEqual({
      account: ACCOUNT,
      region: REGION,
      clusterArn: clusterArn("prod"),
      taskArn: detail.taskArn,
      taskDefinitionArn: tdArn("app", 8),
      family: "app",
      status: "STOPPED/HEALTHY",
      exitCode: 137,
      reason: "OutOfMemoryError: Container killed due to memory usage",
      code: "SIDECAR_EXITED",
    });
  });

  it("alerts an unhealthy sidecar; starting and unknown ones are counted, not alerted", async () => {
    describeFrom([
      task("u", { sidecar: { healthStatus: "UNHEALTHY" } }),
      task("s", { sidecar: { healthStatus: "UNKNOWN" }, startedAt: new Date(NOW - 5_000) }),
      task("k", { sidecar: { healthStatus: "SOMETHING_ELSE" } }),
      task("p", { sidecar: { lastStatus: "RESTARTING" } }),
    ]);
    const summary = await handleHealthEvent(
      sqs([stateChange("u"), stateChange("s"), stateChange("k"), stateChange("p")]),
      deps(),
    );
    expect(summary.counts).toEqual({
      HEALTHY: 0,
      UNHEALTHY: 1,
      STARTING: 1,
      STOPPED: 0,
      UNKNOWN: 2,
      DRIFT: 0,
    });
    expect(sentEntries().map((e) => e.DetailType)).toEqual([ALERT_DETAIL_TYPES.UNHEALTHY]);
    expect(observer.findings.map((f) => [f.kind, f.code])).toEqual([
      ["UNHEALTHY", "HEALTH_CHECK_FAILING"],
      ["UNKNOWN", "UNRECOGNISED_HEALTH_STATUS"],
      ["UNKNOWN", "UNRECOGNISED_CONTAINER_STATUS"],
    ]);
    expect(ecsMock).toHaveReceivedCommandTimes(DescribeTasksCommand, 1);
  });

  it("ignores events of tasks without our container, and of tasks not running, without any call", async () => {
    const summary = await handleHealthEvent(
      sqs([
        stateChange("a", { sidecar: null }),
        stateChange("b", { lastStatus: "STOPPED", desiredStatus: "STOPPED" }),
        stateChange("c", { lastStatus: "PENDING" }),
        stateChange("d", { lastStatus: "RUNNING", desiredStatus: "STOPPED" }),
      ]),
      deps(),
    );
    expect(ecsMock.calls()).toHaveLength(0);
    expect(summary.ignored).toEqual({ NOT_OURS: 1, TASK_NOT_RUNNING: 3 });
    expect(summary.counts).toEqual({
      HEALTHY: 0,
      UNHEALTHY: 0,
      STARTING: 0,
      STOPPED: 0,
      UNKNOWN: 0,
      DRIFT: 0,
    });
  });

  it("handles duplicate and out-of-order events: one description, the newest state reported", async () => {
    // DescribeTasks lags behind (version 5, sidecar healthy); the newest event (6) says the sidecar stopped.
    describeFrom([task("t", { version: 5 })]);
    const summary = await handleHealthEvent(
      sqs([
        stateChange("t", {
          version: 6,
          sidecar: { lastStatus: "STOPPED", exitCode: 2, reason: "bad Corefile" },
        }),
        stateChange("t", { version: 4 }),
        stateChange("t", {
          version: 6,
          sidecar: { lastStatus: "STOPPED", exitCode: 2, reason: "bad Corefile" },
        }),
        stateChange("t", { version: 5 }),
      ]),
      deps(),
    );
    expect(ecsMock).toHaveReceivedCommandTimes(DescribeTasksCommand, 1);
    expect(summary.ignored).toEqual({ DUPLICATE_EVENT: 1, STALE_EVENT: 2 });
    expect(summary.counts).toMatchObject({ STOPPED: 1, HEALTHY: 0 });
    expect(observer.findings[0]).toMatchObject({ kind: "STOPPED", exitCode: 2, reason: "bad Corefile" });
  });

  it("a stale event never overrides a newer description", async () => {
    describeFrom([task("t", { version: 9, sidecar: { healthStatus: "HEALTHY" } })]);
    const summary = await handleHealthEvent(
      stateChange("t", { version: 7, sidecar: { lastStatus: "STOPPED", exitCode: 1 } }),
      deps(),
    );
    expect(summary.counts).toMatchObject({ HEALTHY: 1, STOPPED: 0 });
  });

  it("a task that stopped since its event is ignored", async () => {
    describeFrom([task("t", { version: 9, lastStatus: "STOPPED", desiredStatus: "STOPPED" })]);
    const summary = await handleHealthEvent(stateChange("t", { version: 7 }), deps());
    expect(summary.ignored).toEqual({ TASK_NOT_RUNNING: 1 });
    expect(summary.counts.HEALTHY).toBe(0);
  });

  it("batches the tasks of an invocation per account, region and cluster, at most 100 per call", async () => {
    const tasks = [
      ...Array.from({ length: 150 }, (_, i) => task(`a${i}`, { cluster: "a" })),
      ...Array.from({ length: 30 }, (_, i) => task(`b${i}`, { cluster: "b" })),
      ...Array.from({ length: 20 }, (_, i) => task(`c${i}`, { cluster: "a", account: "210987654321" })),
    ];
    describeFrom(tasks);
    const evts = tasks.map((t) => {
      const [, , , , account, resource] = (t.taskArn ?? "").split(":");
      const [, cluster, id] = (resource ?? "").split("/");
      return stateChange(id ?? "", { cluster, account });
    });
    const d = deps();
    const summary = await handleHealthEvent(sqs(evts), d);
    const calls = ecsMock.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => [c.cluster, c.tasks?.length])).toEqual([
      [clusterArn("a"), 100],
      [clusterArn("a"), 50],
      [clusterArn("b"), 30],
      [clusterArn("a", "210987654321"), 20],
    ]);
    expect(summary.counts.HEALTHY).toBe(200);
    expect(summary.apiCalls.DescribeTasks).toBe(4);
    expect(d.ecsFor).toHaveBeenCalledWith({ account: "210987654321", region: REGION });
  });

  it("DescribeTasks failures: MISSING tasks are ignored, other reasons reported, never thrown", async () => {
    ecsMock.on(DescribeTasksCommand).resolves({
      tasks: [task("ok")],
      failures: [
        { arn: taskArn("prod", "gone"), reason: "MISSING" },
        { arn: taskArn("prod", "odd"), reason: "SOMETHING_NEW", detail: "the future" },
      ],
    });
    const summary = await handleHealthEvent(
      sqs([stateChange("ok"), stateChange("gone"), stateChange("odd"), stateChange("lost")]),
      deps(),
    );
    expect(summary.counts.HEALTHY).toBe(1);
    expect(summary.ignored).toEqual({ TASK_MISSING: 1, DESCRIBE_FAILED: 1, NOT_DESCRIBED: 1 });
    expect(observer.problems).toEqual([
      { reason: "DESCRIBE_FAILED", message: "DescribeTasks failure: SOMETHING_NEW" },
    ]);
  });

  it("a cluster deleted since is not an error", async () => {
    ecsMock
      .on(DescribeTasksCommand)
      .rejects(new ClusterNotFoundException({ message: "Cluster not found.", $metadata: {} }));
    const summary = await handleHealthEvent(stateChange("t"), deps());
    expect(summary.ignored).toEqual({ TASK_MISSING: 1 });
  });

  it("throws when throttling outlasts the SDK's retries, after logging the summary", async () => {
    ecsMock.on(DescribeTasksCommand).rejects(throttled());
    await expect(handleHealthEvent(stateChange("t"), deps())).rejects.toMatchObject({
      name: "RetryableError",
      reason: "THROTTLED",
    });
    expect(observer.summaries).toHaveLength(1);
    expect(observer.problems.map((p) => p.reason)).toEqual(["THROTTLED"]);
    ecsMock
      .on(DescribeTasksCommand)
      .rejects(new ServerException({ message: "boom", $metadata: { httpStatusCode: 500 } }));
    await expect(handleHealthEvent(stateChange("t"), deps())).rejects.toBeInstanceOf(RetryableError);
  });

  it("ignores what it does not know, counted and logged, never thrown", async () => {
    const cases: Array<[unknown, string, HealthSummary["trigger"]]> = [
      [{ hello: "world" }, "UNRECOGNISED_EVENT", "ignored"],
      [null, "UNRECOGNISED_EVENT", "ignored"],
      [loadEvent("register-tagged.json"), "UNRECOGNISED_EVENT", "ignored"],
      [
        sqs(["{not json", { source: "aws.ecs", "detail-type": "ECS Task State Change", detail: {} }]),
        "",
        "event",
      ],
    ];
    for (const [event, reason, trigger] of cases) {
      const summary = await handleHealthEvent(event, deps());
      expect(summary.trigger).toBe(trigger);
      if (reason) expect(summary.ignored).toEqual({ [reason]: 1 });
      else expect(summary.ignored).toEqual({ MALFORMED_EVENT: 2 });
    }
    const off = await handleHealthEvent(loadEvent("scheduled-sweep.json"), deps({ sweep: false }));
    expect(off).toMatchObject({ trigger: "ignored", ignored: { SWEEP_DISABLED: 1 } });
    expect(ecsMock.calls()).toHaveLength(0);
    expect(observer.ignoredReasons).toMatchObject({
      UNRECOGNISED_EVENT: 3,
      MALFORMED_EVENT: 2,
      SWEEP_DISABLED: 1,
    });
  });
});

// ------------------------------------------------------------------ the sweep

describe("the sweep", () => {
  it("lists clusters and running tasks page by page and describes each page in one call", async () => {
    const names = Array.from({ length: 130 }, (_, i) => `c${i}`);
    const clusters: Record<string, Task[]> = Object.fromEntries(
      names.map((n) => [n, [task(`${n}-1`, { cluster: n })]]),
    );
    clusters.c0 = Array.from({ length: 230 }, (_, i) => task(`big-${i}`, { cluster: "c0" }));
    fakeEcs({ clusters });
    const summary = await sweep(deps());
    expect(summary).toMatchObject({
      trigger: "sweep",
      counts: { HEALTHY: 230 + 129 },
      clustersScanned: 130,
      tasksExamined: 359,
      apiCalls: {
        ListClusters: 2,
        ListTasks: 132,
        DescribeTasks: 132,
        DescribeTaskDefinition: 0,
        PutEvents: 0,
      },
    });
    const describes = ecsMock.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input);
    expect(
      describes
        .filter((c) => c.cluster === "arn:aws:ecs:us-east-1:123456789012:cluster/c0")
        .map((c) => c.tasks?.length),
    ).toEqual([100, 100, 30]);
    expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, {
      desiredStatus: "RUNNING",
      maxResults: 100,
    });
    // Every scanned cluster gets its counts, zeros included.
    expect(observer.clusters.size).toBe(130);
    expect(observer.clusters.get("c5")).toEqual({
      HEALTHY: 1,
      UNHEALTHY: 0,
      STARTING: 0,
      STOPPED: 0,
      UNKNOWN: 0,
      DRIFT: 0,
    });
    expect(observer.zerosFor.get("c5")).toBe(true);
  });

  it("counts every class per cluster, alerts unhealthy and stopped sidecars", async () => {
    fakeEcs({
      clusters: {
        prod: [
          task("h"),
          task("u", { sidecar: { healthStatus: "UNHEALTHY" } }),
          task("x", {
            sidecar: { lastStatus: "STOPPED", exitCode: 1, reason: "Essential container exited" },
          }),
          task("s", { sidecar: { healthStatus: "UNKNOWN" }, startedAt: new Date(NOW - 1_000) }),
          task("q", { sidecar: { healthStatus: "UNKNOWN" } }),
          task("p", { lastStatus: "PENDING", sidecar: { lastStatus: "PENDING" } }),
        ],
        empty: [],
      },
    });
    const summary = await sweep(deps());
    expect(summary.counts).toEqual({
      HEALTHY: 1,
      UNHEALTHY: 1,
      STARTING: 1,
      STOPPED: 1,
      UNKNOWN: 1,
      DRIFT: 0,
    });
    expect(summary.ignored).toEqual({ TASK_NOT_RUNNING: 1 });
    expect(observer.clusters.get("prod")).toEqual({
      HEALTHY: 1,
      UNHEALTHY: 1,
      STARTING: 1,
      STOPPED: 1,
      UNKNOWN: 1,
      DRIFT: 0,
    });
    expect(observer.clusters.get("empty")).toEqual({
      HEALTHY: 0,
      UNHEALTHY: 0,
      STARTING: 0,
      STOPPED: 0,
      UNKNOWN: 0,
      DRIFT: 0,
    });
    expect(
      sentEntries()
        .map((e) => e.DetailType)
        .sort(),
    ).toEqual(["DNS Cache Sidecar Stopped", "DNS Cache Sidecar Unhealthy"]);
    expect(summary.alertsSent).toBe(2);
  });

  it("bridge: injected tasks need their instance's node cache; missing and unhealthy daemons are alerted", async () => {
    const bridgeSource = tdArn("web", 4);
    const bridgeInjected = tdArn("web", 5);
    const daemon = tdArn("dns-cache-node-a", 1);
    const instance = (n: number) => `arn:aws:ecs:us-east-1:123456789012:container-instance/a/i${n}`;
    const onInstance = (t: Task, n: number): Task => ({ ...t, containerInstanceArn: instance(n) });
    const nodeCache = (id: string, n: number, second: Partial<Container>): Task => ({
      ...onInstance(task(id, { cluster: "a", sidecar: null, taskDefinitionArn: daemon }), n),
      containers: [
        { name: "dns-cache-node-setup", lastStatus: "STOPPED", exitCode: 0 },
        { name: "dns-cache-node", lastStatus: "RUNNING", healthStatus: "HEALTHY" },
        { name: "dns-cache-node-2", lastStatus: "RUNNING", healthStatus: "HEALTHY", ...second },
      ],
    });
    const injected = inject({
      family: "web",
      networkMode: "bridge",
      requiresCompatibilities: ["EC2"],
      containerDefinitions: [{ name: "web", image: "x", memory: 128 }],
      tags: OPTED_IN,
    });
    if (injected.outcome !== "injected") throw new Error("refused");
    fakeEcs({
      clusters: {
        a: [
          // i1: injected bridge task, healthy node cache. i2: injected task, no node cache at all.
          onInstance(task("w1", { cluster: "a", sidecar: null, taskDefinitionArn: bridgeInjected }), 1),
          onInstance(task("w2", { cluster: "a", sidecar: null, taskDefinitionArn: bridgeInjected }), 2),
          // i3: the source revision still runs (drift); its node cache has a replica failing its check.
          onInstance(task("w3", { cluster: "a", sidecar: null, taskDefinitionArn: bridgeSource }), 3),
          nodeCache("n1", 1, {}),
          nodeCache("n3", 3, { healthStatus: "UNHEALTHY" }),
        ],
      },
      taskDefinitions: {
        [bridgeSource]: {
          taskDefinition: {
            taskDefinitionArn: bridgeSource,
            family: "web",
            networkMode: "bridge",
            containerDefinitions: [{ name: "web", image: "x", memory: 128 }],
          },
          tags: OPTED_IN,
          $metadata: {},
        },
        [bridgeInjected]: {
          taskDefinition: { ...(injected.definition as TaskDefinition), taskDefinitionArn: bridgeInjected },
          tags: injected.definition.tags,
          $metadata: {},
        },
      },
    });
    const summary = await sweep(deps());
    expect(summary.counts).toMatchObject({ DRIFT: 1, HEALTHY: 0 });
    expect(summary.nodeCache).toEqual({
      HEALTHY: 1,
      UNHEALTHY: 1,
      STARTING: 0,
      STOPPED: 0,
      UNKNOWN: 0,
      MISSING: 1,
    });
    expect(summary.ignored).toMatchObject({ BRIDGE_INJECTED: 2 });
    // The daemon's task definition is never read: its tasks are recognised by their containers.
    expect(ecsMock).not.toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, { taskDefinition: daemon });
    const byType = Object.fromEntries(sentEntries().map((e) => [e.DetailType, e]));
    expect(Object.keys(byType).sort()).toEqual([
      "DNS Cache Drift Detected",
      "DNS Cache Node Cache Missing",
      "DNS Cache Node Cache Unhealthy",
    ]);
    const missing = byType["DNS Cache Node Cache Missing"];
    expect(missing?.Resources).toEqual([clusterArn("a"), instance(2), taskArn("a", "w2")]);
    expect(JSON.parse(missing?.Detail ?? "{}")).toMatchObject({
      code: "NODE_CACHE_MISSING",
      containerInstanceArn: instance(2),
      taskCount: 1,
    });
    expect(JSON.parse(byType["DNS Cache Node Cache Unhealthy"]?.Detail ?? "{}")).toMatchObject({
      code: "NODE_CACHE_UNHEALTHY",
      containerInstanceArn: instance(3),
      status: "RUNNING/UNHEALTHY",
    });
  });

  it("finds drift: opted-in revisions without the sidecar, each task definition described once", async () => {
    const source = tdArn("app", 7);
    const plain = tdArn("other", 3);
    const listed = tdArn("odd", 2);
    const gone = tdArn("gone", 1);
    fakeEcs({
      clusters: {
        a: [
          task("a1", { cluster: "a", sidecar: null, taskDefinitionArn: source }),
          task("a2", { cluster: "a", sidecar: null, taskDefinitionArn: source }),
          task("a3", { cluster: "a", sidecar: null, taskDefinitionArn: plain }),
          task("a4", { cluster: "a" }),
        ],
        b: [
          task("b1", { cluster: "b", sidecar: null, taskDefinitionArn: source }),
          task("b2", { cluster: "b", sidecar: null, taskDefinitionArn: listed }),
          task("b3", { cluster: "b", sidecar: null, taskDefinitionArn: gone }),
        ],
      },
      taskDefinitions: {
        [source]: taskDefinition(source, ["app"], OPTED_IN),
        [plain]: taskDefinition(plain, ["app"], []),
        [listed]: taskDefinition(listed, ["app", "dns-cache"], OPTED_IN),
        [gone]: "missing",
      },
    });
    const summary = await sweep(deps());
    expect(summary.counts).toMatchObject({ HEALTHY: 1, DRIFT: 3 });
    expect(summary.apiCalls.DescribeTaskDefinition).toBe(4);
    expect(ecsMock).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 4);
    expect(ecsMock).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
      taskDefinition: source,
      include: ["TAGS"],
    });
    expect(summary.ignored).toEqual({ NOT_OURS: 1, SIDECAR_NOT_LISTED: 1, TASK_DEFINITION_NOT_FOUND: 1 });
    expect(observer.clusters.get("a")).toMatchObject({ DRIFT: 2, HEALTHY: 1 });
    expect(observer.clusters.get("b")).toMatchObject({ DRIFT: 1 });
    // One finding and one alert per (cluster, task definition).
    const drift = observer.findings.filter((f) => f.kind === "DRIFT");
    expect(drift.map((f) => [f.clusterName, f.taskCount])).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
    const entries = sentEntries();
    expect(entries.map((e) => e.DetailType)).toEqual([
      "DNS Cache Drift Detected",
      "DNS Cache Drift Detected",
    ]);
    expect(JSON.parse(entries[0]?.Detail ?? "{}")).toMatchObject({
      clusterArn: clusterArn("a"),
      taskDefinitionArn: source,
      family: "app",
      status: "NO_SIDECAR",
      taskCount: 2,
      taskArns: [taskArn("a", "a1"), taskArn("a", "a2")],
    });
    expect(entries[0]?.Resources).toEqual([clusterArn("a"), source]);
  });

  it("does not count a task on its way out as drift (desired RUNNING, DEACTIVATING or STOPPING)", async () => {
    const source = tdArn("app", 7);
    fakeEcs({
      clusters: {
        a: [
          task("a1", { cluster: "a", sidecar: null, taskDefinitionArn: source, lastStatus: "DEACTIVATING" }),
          task("a2", { cluster: "a", sidecar: null, taskDefinitionArn: source, lastStatus: "STOPPING" }),
          task("a3", { cluster: "a", sidecar: null, taskDefinitionArn: source }),
        ],
      },
      taskDefinitions: { [source]: taskDefinition(source, ["app"], OPTED_IN) },
    });
    const summary = await sweep(deps());
    expect(summary.counts.DRIFT).toBe(1);
    expect(summary.ignored).toEqual({ TASK_NOT_RUNNING: 2 });
    const drift = observer.findings.filter((f) => f.kind === "DRIFT");
    expect(drift.map((f) => f.taskCount)).toEqual([1]);
    expect(JSON.parse(sentEntries()[0]?.Detail ?? "{}")).toMatchObject({ taskArns: [taskArn("a", "a3")] });
  });

  it("judges drift by the configured opt-in tag", async () => {
    const source = tdArn("app", 7);
    fakeEcs({
      clusters: { a: [task("a1", { cluster: "a", sidecar: null, taskDefinitionArn: source })] },
      taskDefinitions: { [source]: taskDefinition(source, ["app"], [{ key: "dns", value: "yes" }]) },
    });
    expect((await sweep(deps())).counts.DRIFT).toBe(0);
    expect((await sweep(deps({ optIn: { key: "dns", value: "yes" } }))).counts.DRIFT).toBe(1);
  });

  it("scans only the allow-listed clusters, without ListClusters; an unknown one is reported, not thrown", async () => {
    fakeEcs({
      clusters: { prod: [task("p", { cluster: "prod" })], staging: [task("s", { cluster: "staging" })] },
    });
    const summary = await sweep(
      deps({ clusters: ["prod", "arn:aws:ecs:us-east-1:123456789012:cluster/nope"] }),
    );
    expect(ecsMock).not.toHaveReceivedCommand(ListClustersCommand);
    expect(summary).toMatchObject({
      clustersScanned: 1,
      counts: { HEALTHY: 1 },
      ignored: { CLUSTER_NOT_FOUND: 1 },
    });
    expect(observer.problems.map((p) => p.reason)).toEqual(["CLUSTER_NOT_FOUND"]);
    expect([...observer.clusters.keys()]).toEqual(["prod"]);
  });

  it("keeps at most `sweepConcurrency` calls in flight", async () => {
    const clusters = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [
        `c${i}`,
        Array.from({ length: 150 }, (_, j) => task(`${i}-${j}`, { cluster: `c${i}` })),
      ]),
    );
    const fake = fakeEcs({ clusters, delayMs: 2 });
    const summary = await sweep(deps({ sweepConcurrency: 3 }));
    expect(summary.counts.HEALTHY).toBe(1800);
    expect(fake.maxInFlight()).toBe(3);
  });

  it("DescribeTasks failures during a sweep are ignored (tasks gone since the listing)", async () => {
    fakeEcs({ clusters: { prod: [task("p")] } });
    ecsMock
      .on(DescribeTasksCommand)
      .resolves({ tasks: [task("p")], failures: [{ arn: taskArn("prod", "q"), reason: "MISSING" }] });
    const summary = await sweep(deps());
    expect(summary).toMatchObject({ counts: { HEALTHY: 1 }, ignored: { TASK_MISSING: 1 }, tasksExamined: 2 });
  });

  it("finishes the other clusters and reports what failed, without a retry that would repeat alerts", async () => {
    fakeEcs({
      clusters: {
        a: [task("a", { cluster: "a", sidecar: { healthStatus: "UNHEALTHY" } })],
        b: [task("b", { cluster: "b" })],
      },
    });
    ecsMock.on(ListTasksCommand, { cluster: clusterArn("b") }).rejects(throttled());
    const summary = await sweep(deps());
    expect(summary).toMatchObject({
      clustersScanned: 1,
      counts: { UNHEALTHY: 1 },
      alertsSent: 1,
      callsFailed: 1,
    });
    expect(observer.summaries).toEqual([summary]);
    expect(sentEntries()).toHaveLength(1);
  });

  it("reports a failed ListClusters and leaves the retry to the next sweep", async () => {
    ecsMock
      .on(ListClustersCommand)
      .rejects(new ServerException({ message: "boom", $metadata: { httpStatusCode: 503 } }));
    expect(await sweep(deps())).toMatchObject({ clustersScanned: 0, callsFailed: 1 });
  });

  it("runs on a Scheduled Event (sample)", async () => {
    fakeEcs({ clusters: { prod: [task("p")] } });
    const summary = await handleHealthEvent(loadEvent("scheduled-sweep.json"), deps());
    expect(summary).toMatchObject({ trigger: "sweep", counts: { HEALTHY: 1 }, clustersScanned: 1 });
  });

  it("logs UNKNOWN sidecars one by one up to a limit, counts them all", async () => {
    const tasks = Array.from({ length: UNKNOWN_LOG_LIMIT + 15 }, (_, i) =>
      task(`u${i}`, { sidecar: { healthStatus: "UNKNOWN" } }),
    );
    fakeEcs({ clusters: { prod: tasks } });
    const summary = await sweep(deps());
    expect(summary.counts.UNKNOWN).toBe(UNKNOWN_LOG_LIMIT + 15);
    expect(observer.findings).toHaveLength(UNKNOWN_LOG_LIMIT);
    expect(eventsMock).not.toHaveReceivedCommand(PutEventsCommand);
  });
});

// ------------------------------------------------------------------ alerts

const alert = (i: number): Alert => ({
  detailType: "DNS Cache Sidecar Unhealthy",
  resources: [`arn:aws:ecs:us-east-1:123456789012:task/prod/${i}`],
  detail: { taskArn: `t${i}` },
});

describe("alerts", () => {
  it("puts at most 10 entries per call", async () => {
    const calls = zeroApiCalls();
    const result = await sendAlerts(
      events,
      "default",
      Array.from({ length: 25 }, (_, i) => alert(i)),
      calls,
    );
    expect(result).toEqual({ sent: 25, failed: [], errors: [] });
    expect(eventsMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries?.length)).toEqual([
      10, 10, 5,
    ]);
    expect(calls.PutEvents).toBe(3);
  });

  it("sends failed entries once more, then reports what still failed", async () => {
    let call = 0;
    eventsMock.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      call += 1;
      const entries: PutEventsResultEntry[] = input.Entries.map((e, i) => {
        const n = JSON.parse(e.Detail ?? "{}").taskArn;
        // t1 fails once, t2 always.
        if ((call === 1 && n === "t1") || n === "t2")
          return { ErrorCode: "InternalFailure", ErrorMessage: "try again" };
        return { EventId: `e${call}-${i}` };
      });
      return { FailedEntryCount: entries.filter((e) => e.ErrorCode).length, Entries: entries };
    });
    const result = await sendAlerts(events, "default", [alert(0), alert(1), alert(2)], zeroApiCalls());
    expect(result.sent).toBe(2);
    expect(result.failed).toEqual([
      { detailType: "DNS Cache Sidecar Unhealthy", errorCode: "InternalFailure", message: "try again" },
    ]);
    expect(result.errors).toEqual([]);
    expect(eventsMock).toHaveReceivedCommandTimes(PutEventsCommand, 2);
    expect(eventsMock.commandCalls(PutEventsCommand)[1]?.args[0].input.Entries).toHaveLength(2);
  });

  it("counts failed alerts in the summary and tells the observer", async () => {
    eventsMock
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: "AccessDeniedException" }] });
    describeFrom([task("t", { sidecar: { healthStatus: "UNHEALTHY" } })]);
    const summary = await handleHealthEvent(stateChange("t"), deps());
    expect(summary).toMatchObject({ alertsSent: 0, alertsFailed: 1, apiCalls: { PutEvents: 2 } });
    expect(observer.failures).toHaveLength(1);
  });

  it("a PutEvents call that keeps failing is retried once, then the invocation throws", async () => {
    eventsMock.on(PutEventsCommand).rejects(throttled());
    describeFrom([task("t", { sidecar: { healthStatus: "UNHEALTHY" } })]);
    await expect(handleHealthEvent(stateChange("t"), deps())).rejects.toMatchObject({ reason: "THROTTLED" });
    expect(eventsMock).toHaveReceivedCommandTimes(PutEventsCommand, 2);
    expect(observer.summaries[0]).toMatchObject({ alertsFailed: 1, counts: { UNHEALTHY: 1 } });
  });
});

describe("the limiter", () => {
  it("runs at most n at once, in order", async () => {
    const limit = limiter(2);
    let active = 0;
    let max = 0;
    const order: number[] = [];
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) =>
        limit(async () => {
          active += 1;
          max = Math.max(max, active);
          order.push(i);
          await new Promise((r) => setTimeout(r, 1));
          active -= 1;
          if (i === 3) throw new Error("three");
          return i * 10;
        }),
      ),
    );
    expect(max).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // Each caller gets its own task's result, and a failure is passed on, never swallowed.
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
      0,
      10,
      20,
      "three",
      40,
      50,
      60,
    ]);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
  });

  it("goes on after a failure and frees its slot", async () => {
    const limit = limiter(1);
    await expect(limit(() => Promise.reject(new Error("first")))).rejects.toThrow("first");
    await expect(limit(async () => "second")).resolves.toBe("second");
  });
});

// ------------------------------------------------------------------ logs and metrics, and the handler

describe("the Powertools observer", () => {
  it("logs findings and a summary, and emits EMF in DnsCache with a ClusterName dimension per cluster", async () => {
    const { Logger } = await import("@aws-lambda-powertools/logger");
    const { Metrics } = await import("@aws-lambda-powertools/metrics");
    const { healthObserver } = await import("#shared/health/observer.ts");
    fakeEcs({
      clusters: {
        prod: [task("h"), task("u", { sidecar: { healthStatus: "UNHEALTHY" } })],
        staging: [task("s", { cluster: "staging" })],
      },
    });
    const logger = new Logger({ serviceName: "dns-cache-health" });
    const metrics = new Metrics({ serviceName: "dns-cache-health", namespace: "DnsCache" });
    const lines = await captureOutput(async () => {
      await sweep(deps({}, { observer: healthObserver(logger, metrics, "dns-cache-health") }));
      metrics.publishStoredMetrics();
    });
    const logs = lines.filter((l) => !("_aws" in l));
    expect(logs.map((l) => l.message)).toEqual(["UNHEALTHY: HEALTH_CHECK_FAILING", "summary: sweep"]);
    expect(logs[0]).toMatchObject({ level: "WARN", kind: "UNHEALTHY", clusterName: "prod", family: "app" });
    expect(JSON.stringify(logs)).not.toMatch(/containerDefinitions|environment/);
    expect(logs[1]).toMatchObject({ counts: { HEALTHY: 2, UNHEALTHY: 1 }, clustersScanned: 2 });

    const blobs = emf(lines);
    expect(blobs.every((b) => b._aws.CloudWatchMetrics[0]?.Namespace === "DnsCache")).toBe(true);
    const prod = blobs.find((b) => b.ClusterName === "prod");
    expect(prod?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "ClusterName"]]);
    expect(prod).toMatchObject({
      SidecarHealthy: 1,
      SidecarUnhealthy: 1,
      SidecarStopped: 0,
      SidecarStarting: 0,
      SidecarUnknown: 0,
      TasksWithoutSidecar: 0,
    });
    expect(blobs.find((b) => b.ClusterName === "staging")).toMatchObject({ SidecarHealthy: 1 });
    // No dimension ever names a task.
    for (const b of blobs) {
      for (const set of b._aws.CloudWatchMetrics[0]?.Dimensions ?? []) {
        expect(set.every((d) => ["service", "ClusterName", "Reason"].includes(d))).toBe(true);
      }
    }
    const totals = blobs.find((b) => "SidecarHealthy" in b && !("ClusterName" in b));
    expect(totals).toMatchObject({
      SidecarHealthy: 2,
      SidecarUnhealthy: 1,
      ClustersScanned: 2,
      AlertsSent: 1,
    });
  });
});

describe("the handler", () => {
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    functionName: "dns-cache-health",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:dns-cache-health",
    memoryLimitInMB: "256",
    awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    logGroupName: "/aws/lambda/dns-cache-health",
    logStreamName: "2026/11/25/[$LATEST]abcdef",
    getRemainingTimeInMillis: () => 30_000,
  } satisfies Context;

  async function loadHandler(env: Record<string, string>) {
    vi.resetModules();
    for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
    vi.stubEnv("AWS_REGION", REGION);
    vi.stubEnv("AWS_ACCESS_KEY_ID", "a");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "b");
    try {
      return (await import("../functions/health/handler.ts")).handler;
    } finally {
      vi.unstubAllEnvs();
    }
  }

  it("refuses a bad configuration at cold start", async () => {
    await expect(loadHandler({ DNS_CACHE_SWEEP_CONCURRENCY: "99" })).rejects.toMatchObject({
      name: "ConfigError",
      variable: "DNS_CACHE_SWEEP_CONCURRENCY",
    });
  });

  it("wires the sample events to the flows and returns the summary", async () => {
    const handler = await loadHandler({ DNS_CACHE_ALERT_BUS: "ops-alerts" });
    describeFrom([
      task("7d3e1f0c9a2b4c5d8e6f0a1b2c3d4e5f", {
        version: 6,
        sidecar: { lastStatus: "STOPPED", exitCode: 137 },
      }),
    ]);
    let summary: unknown;
    const lines = await captureOutput(async () => {
      summary = await handler(loadEvent("task-state-change-stopped-sidecar.json"), context);
    });
    expect(summary).toMatchObject({ trigger: "event", counts: { STOPPED: 1 }, alertsSent: 1 });
    expect(sentEntries()[0]).toMatchObject({
      EventBusName: "ops-alerts",
      DetailType: "DNS Cache Sidecar Stopped",
    });
    expect(
      lines.some(
        (l) => l.message === "STOPPED: SIDECAR_EXITED" && l.function_request_id === context.awsRequestId,
      ),
    ).toBe(true);
    expect(emf(lines).some((b) => b.ClusterName === "prod" && b.SidecarStopped === 1)).toBe(true);

    fakeEcs({ clusters: { prod: [task("p")] } });
    await captureOutput(async () => {
      summary = await handler(loadEvent("scheduled-sweep.json"), context);
    });
    expect(summary).toMatchObject({ trigger: "sweep", counts: { HEALTHY: 1 }, clustersScanned: 1 });

    await captureOutput(async () => {
      summary = await handler({ anything: "else" }, context);
    });
    expect(summary).toMatchObject({ trigger: "ignored", ignored: { UNRECOGNISED_EVENT: 1 } });
  });
});
