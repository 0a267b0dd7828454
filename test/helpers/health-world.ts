/**
 * The health function's test world: DescribeTasks tasks and Task State Change events built from the
 * samples, aws-sdk-client-mock clients (ECS, EventBridge), a fake ECS fleet, a recording observer, and a
 * capture of what Powertools writes. Shared by test/health.test.ts and test/health-flows.test.ts.
 */
import {
  ClientException,
  ClusterNotFoundException,
  type Container,
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandOutput,
  DescribeTasksCommand,
  ECSClient,
  ListClustersCommand,
  ListTasksCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { vi } from "vitest";
import type { Finding } from "#shared/health/classify.ts";
import { type HealthConfig, loadHealthConfig } from "#shared/health/config.ts";
import type { HealthDeps, HealthObserver, HealthSummary, IgnoredAbout } from "#shared/health/invocation.ts";
import { loadEvent } from "./events.ts";

export const NOW = Date.parse("2026-11-25T12:00:00Z");
export const LONG_AGO = new Date(NOW - 3_600_000);
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const clusterArn = (name: string, account = ACCOUNT) =>
  `arn:aws:ecs:${REGION}:${account}:cluster/${name}`;
export const taskArn = (cluster: string, id: string, account = ACCOUNT) =>
  `arn:aws:ecs:${REGION}:${account}:task/${cluster}/${id}`;
export const tdArn = (family: string, revision: number) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;

export type Json = Record<string, unknown>;

export interface TaskOptions {
  cluster?: string;
  account?: string;
  /** The dns-cache container's fields (any status string); null: the task has none. */
  sidecar?: (Omit<Partial<Container>, "healthStatus"> & { healthStatus?: string }) | null;
  lastStatus?: string;
  desiredStatus?: string;
  startedAt?: Date;
  version?: number;
  taskDefinitionArn?: string;
}

/** A DescribeTasks task: app + dns-cache-init (done) + dns-cache (healthy unless told). */
export function task(id: string, o: TaskOptions = {}): Task {
  const cluster = o.cluster ?? "prod";
  const arn = taskArn(cluster, id, o.account);
  const containers: Container[] = [
    { name: "app", lastStatus: "RUNNING", healthStatus: "UNKNOWN", taskArn: arn },
  ];
  if (o.sidecar !== null) {
    containers.push({ name: "dns-cache-init", lastStatus: "STOPPED", exitCode: 0, taskArn: arn }, {
      name: "dns-cache",
      lastStatus: "RUNNING",
      healthStatus: "HEALTHY",
      taskArn: arn,
      ...o.sidecar,
    } as Container);
  }
  return {
    taskArn: arn,
    clusterArn: clusterArn(cluster, o.account),
    taskDefinitionArn: o.taskDefinitionArn ?? tdArn("app", o.sidecar === null ? 7 : 8),
    lastStatus: o.lastStatus ?? "RUNNING",
    desiredStatus: o.desiredStatus ?? "RUNNING",
    healthStatus: "UNKNOWN",
    startedAt: o.startedAt ?? LONG_AGO,
    createdAt: LONG_AGO,
    version: o.version ?? 4,
    containers,
  };
}

/** A Task State Change event (from the running sample) for `id` in `cluster`. */
export function stateChange(
  id: string,
  o: {
    cluster?: string;
    account?: string;
    version?: number;
    lastStatus?: string;
    desiredStatus?: string;
    sidecar?: Json | null;
  } = {},
): Json {
  const event = loadEvent("task-state-change-running.json");
  const cluster = o.cluster ?? "prod";
  const account = o.account ?? ACCOUNT;
  const arn = taskArn(cluster, id, account);
  event.account = account;
  const detail = event.detail as Json;
  detail.taskArn = arn;
  detail.clusterArn = clusterArn(cluster, account);
  if (o.version !== undefined) detail.version = o.version;
  if (o.lastStatus) detail.lastStatus = o.lastStatus;
  if (o.desiredStatus) detail.desiredStatus = o.desiredStatus;
  let containers = (detail.containers as Json[]).map((c): Json => ({ ...c, taskArn: arn }));
  if (o.sidecar === null) containers = containers.filter((c) => !String(c.name).startsWith("dns-cache"));
  else if (o.sidecar)
    containers = containers.map((c) => (c.name === "dns-cache" ? { ...c, ...o.sidecar } : c));
  detail.containers = containers;
  return event;
}

export function sqs(events: unknown[]): SQSEvent {
  return {
    Records: events.map((e, i) => ({
      messageId: `m${i}`,
      receiptHandle: `r${i}`,
      body: typeof e === "string" ? e : JSON.stringify(e),
      attributes: {} as SQSEvent["Records"][number]["attributes"],
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:dns-cache-health",
      awsRegion: REGION,
    })),
  };
}

export const ecsMock = mockClient(ECSClient);
export const eventsMock = mockClient(EventBridgeClient);
const credentials = { accessKeyId: "a", secretAccessKey: "b" };
export const ecs = new ECSClient({ region: REGION, maxAttempts: 1, credentials });
export const events = new EventBridgeClient({ region: REGION, maxAttempts: 1, credentials });

const baseConfig = loadHealthConfig({});

/** The flows' dependencies: the mocked clients, the fixed clock, the default configuration unless told. */
export function healthDeps(
  observer: HealthObserver,
  config: Partial<HealthConfig> = {},
  extra: Partial<HealthDeps> = {},
): HealthDeps {
  return {
    config: { ...baseConfig, ...config },
    ecsFor: vi.fn(() => ecs),
    sweepEcs: ecs,
    events,
    observer,
    now: () => NOW,
    ...extra,
  };
}

export interface Recorded extends HealthObserver {
  findings: Finding[];
  ignoredReasons: Record<string, number>;
  problems: Array<{ reason: string; message: string }>;
  /** Every `ignored` and `problem` call with what it was about, in order. */
  ignoredLog: Array<{ reason: string; count: number; about?: IgnoredAbout }>;
  problemsAbout: Array<{ reason: string; message: string; about?: Record<string, unknown> }>;
  clusters: Map<string, Record<string, number>>;
  zerosFor: Map<string, boolean>;
  failures: unknown[];
  accountFailures: number[];
  summaries: HealthSummary[];
}

export function recorder(): Recorded {
  const r: Recorded = {
    findings: [],
    ignoredReasons: {},
    problems: [],
    ignoredLog: [],
    problemsAbout: [],
    clusters: new Map(),
    zerosFor: new Map(),
    failures: [],
    accountFailures: [],
    summaries: [],
    finding: (f) => r.findings.push(f),
    ignored: (reason, count, about) => {
      r.ignoredReasons[reason] = (r.ignoredReasons[reason] ?? 0) + count;
      r.ignoredLog.push({ reason, count, ...(about ? { about } : {}) });
    },
    problem: (reason, message, about) => {
      r.problems.push({ reason, message });
      r.problemsAbout.push({ reason, message, ...(about ? { about } : {}) });
    },
    clusterCounts: (name, counts, { zeros }) => {
      r.clusters.set(name, { ...counts });
      r.zerosFor.set(name, zeros);
    },
    alertsFailed: (failures) => r.failures.push(...failures),
    accountsFailed: (count) => r.accountFailures.push(count),
    summary: (s) => r.summaries.push(s),
  };
  return r;
}

/** PutEvents entries sent, in order. */
export function sentEntries(): PutEventsRequestEntry[] {
  return eventsMock.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
}

export function acceptAll(): void {
  eventsMock.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_, i) => ({ EventId: `event-${i}` })),
  }));
}

/** DescribeTasks answers from `tasks` (by ARN), MISSING for the rest. */
export function describeFrom(tasks: Task[]): void {
  const byArn = new Map(tasks.map((t) => [t.taskArn, t]));
  ecsMock.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
    tasks: input.tasks.flatMap((arn) => (byArn.has(arn) ? [byArn.get(arn)] : [])),
    failures: input.tasks.filter((arn) => !byArn.has(arn)).map((arn) => ({ arn, reason: "MISSING" })),
  }));
}
export const throttled = () =>
  Object.assign(new Error("Rate exceeded"), {
    name: "ThrottlingException",
    $metadata: { httpStatusCode: 400 },
  });

export interface FakeFleet {
  clusters: Record<string, Task[]>;
  taskDefinitions?: Record<string, DescribeTaskDefinitionCommandOutput | "missing">;
  /** Answer each call after this many ms (to see concurrency). */
  delayMs?: number;
}

/** ECS answering ListClusters / ListTasks / DescribeTasks / DescribeTaskDefinition from a fleet, paginated. */
export function fakeEcs(fleet: FakeFleet): { maxInFlight: () => number } {
  let inFlight = 0;
  let max = 0;
  const answer = <T>(fn: () => T) => {
    inFlight += 1;
    max = Math.max(max, inFlight);
    return new Promise<T>((resolve, reject) =>
      setTimeout(() => {
        inFlight -= 1;
        try {
          resolve(fn());
        } catch (error) {
          reject(error);
        }
      }, fleet.delayMs ?? 0),
    );
  };
  const page = <T>(items: T[], input: { nextToken?: string; maxResults?: number }) => {
    const start = Number(input.nextToken ?? 0);
    const end = start + (input.maxResults ?? 100);
    return { items: items.slice(start, end), nextToken: end < items.length ? String(end) : undefined };
  };
  const names = Object.keys(fleet.clusters);
  const resolveCluster = (ref: string) => {
    const name = ref.split("/").pop() ?? ref;
    const tasks = fleet.clusters[name];
    if (!tasks) throw new ClusterNotFoundException({ message: "Cluster not found.", $metadata: {} });
    return tasks;
  };
  ecsMock.on(ListClustersCommand).callsFake((input) =>
    answer(() => {
      const p = page(
        names.map((n) => clusterArn(n)),
        input,
      );
      return { clusterArns: p.items, nextToken: p.nextToken };
    }),
  );
  ecsMock.on(ListTasksCommand).callsFake((input) =>
    answer(() => {
      const tasks = resolveCluster(input.cluster).filter((t) => t.desiredStatus === "RUNNING");
      const p = page(
        tasks.map((t) => t.taskArn),
        input,
      );
      return { taskArns: p.items, nextToken: p.nextToken };
    }),
  );
  ecsMock.on(DescribeTasksCommand).callsFake((input) =>
    answer(() => {
      if (input.tasks.length > 100) throw new Error("more than 100 tasks");
      const tasks = resolveCluster(input.cluster);
      return { tasks: tasks.filter((t) => input.tasks.includes(t.taskArn)), failures: [] };
    }),
  );
  ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input) =>
    answer(() => {
      const found = fleet.taskDefinitions?.[input.taskDefinition];
      if (!found || found === "missing") {
        throw new ClientException({ message: "Unable to describe task definition.", $metadata: {} });
      }
      return found;
    }),
  );
  return { maxInFlight: () => max };
}

export const taskDefinition = (
  arn: string,
  names: string[],
  tags: Array<{ key: string; value: string }>,
) => ({
  taskDefinition: {
    taskDefinitionArn: arn,
    family: "app",
    networkMode: "awsvpc" as const,
    containerDefinitions: names.map((name) => ({ name, image: "x" })),
  },
  tags,
  $metadata: {},
});
export const OPTED_IN = [{ key: "dns-cache", value: "enabled" }];

/** Lines the function writes to stdout and stderr (Powertools' logs and EMF), parsed. */
export async function captureOutput(fn: () => Promise<unknown> | unknown): Promise<Json[]> {
  const lines: string[] = [];
  const collect = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split("\n").filter(Boolean));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, "write").mockImplementation(collect),
    vi.spyOn(process.stderr, "write").mockImplementation(collect),
  ];
  try {
    await fn();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Json];
    } catch {
      return [];
    }
  });
}

export type Emf = Json & {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
  };
};
export const emf = (lines: Json[]): Emf[] => lines.filter((l): l is Emf => "_aws" in l);
