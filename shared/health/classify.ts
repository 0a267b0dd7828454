/**
 * What the health function decides, as functions of data: no AWS calls, no clock (the time is a parameter).
 * The adapters (`aws/ecs-tasks.ts`, `aws/alerts.ts`) fetch, `monitor.ts` orchestrates.
 */
import type { Container, Tag, Task, TaskDefinition } from "@aws-sdk/client-ecs";
import type { Alert } from "#shared/aws/alerts.ts";
import { hasBridgeInjection, NODE_CACHE_CONTAINERS } from "#shared/engine/bridge.ts";
import { CACHE_CONTAINER } from "#shared/engine/constants.ts";
import { inject } from "#shared/engine/inject.ts";
import { clusterNameOf, familyOf, parseArn } from "#shared/runtime/arn.ts";
import type { TagMatch } from "#shared/runtime/env.ts";
import { pick } from "#shared/runtime/pick.ts";

/** The classes of a running task's cache sidecar. */
export const HEALTH_CLASSES = ["HEALTHY", "UNHEALTHY", "STARTING", "STOPPED", "UNKNOWN"] as const;
export type HealthClass = (typeof HEALTH_CLASSES)[number];
/** Every count the function reports: the sidecar classes, and DRIFT (opted-in tasks without the sidecar). */
export type CountKey = HealthClass | "DRIFT";
export type Counts = Record<CountKey, number>;

export const zeroCounts = (): Counts => ({
  HEALTHY: 0,
  UNHEALTHY: 0,
  STARTING: 0,
  STOPPED: 0,
  UNKNOWN: 0,
  DRIFT: 0,
});

/**
 * How long after the task started a sidecar without a health status yet counts as STARTING. A fixed grace
 * from the task's `startedAt`, so no task definition has to be read for it: the injected health check
 * (startPeriod 10 s + interval 5 s × retries 3, plus timeouts) settles well within it.
 */
export const STARTING_GRACE_MS = 60_000;

/** The longest container `reason` carried into logs and alerts. */
const MAX_REASON_LENGTH = 512;

export interface ContainerView {
  name: string;
  lastStatus?: string;
  healthStatus?: string;
  exitCode?: number;
  reason?: string;
}

/** The part of a task the classification reads, from DescribeTasks or from a Task State Change event. */
export interface TaskView {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  lastStatus?: string;
  desiredStatus?: string;
  /** Epoch milliseconds (the task's `startedAt`, else `createdAt`). */
  startedAt?: number;
  /** The task's version: ECS increments it on every state change. */
  version?: number;
  /** EC2 tasks: the instance they run on (bridge tasks share its node cache). */
  containerInstanceArn?: string;
  containers: ContainerView[];
}

const defined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

function epochMs(value: Date | string | number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : typeof value === "number" ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

function containerView(c: Container): ContainerView {
  return {
    name: c.name ?? "",
    lastStatus: defined(c.lastStatus),
    healthStatus: defined(c.healthStatus),
    exitCode: defined(c.exitCode),
    reason: defined(c.reason),
  };
}

/** A DescribeTasks task as a view; undefined without the ARNs every finding needs. */
export function taskViewOf(task: Task): TaskView | undefined {
  if (!task.taskArn || !task.clusterArn || !task.taskDefinitionArn) return undefined;
  return {
    taskArn: task.taskArn,
    clusterArn: task.clusterArn,
    taskDefinitionArn: task.taskDefinitionArn,
    lastStatus: defined(task.lastStatus),
    desiredStatus: defined(task.desiredStatus),
    startedAt: epochMs(task.startedAt) ?? epochMs(task.createdAt),
    version: defined(task.version),
    ...(task.containerInstanceArn ? { containerInstanceArn: task.containerInstanceArn } : {}),
    containers: (task.containers ?? []).map(containerView),
  };
}

/** Builds a view from loosely typed values (event timestamps are ISO strings, DescribeTasks' are Dates). */
export function timestampMs(value: Date | string | number | null | undefined): number | undefined {
  return epochMs(value);
}

export function sidecarOf(view: Pick<TaskView, "containers">): ContainerView | undefined {
  return view.containers.find((c) => c.name === CACHE_CONTAINER);
}

function later(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.max(a, b);
}

/**
 * The newer of two views of one task, by `version`. Health statuses come only from DescribeTasks, so when
 * an event is newer than what DescribeTasks answered (its reads can lag), the event's task and container
 * statuses, exit codes, reasons and start time win and the described health statuses are kept.
 */
export function freshest(described: TaskView, event: TaskView | undefined): TaskView {
  if (!event || (event.version ?? -1) <= (described.version ?? -1)) return described;
  const fromEvent = new Map(event.containers.map((c) => [c.name, c]));
  return {
    ...described,
    // A lagging description may know only when the task was created: the later start is the real one.
    startedAt: later(described.startedAt, event.startedAt),
    lastStatus: event.lastStatus ?? described.lastStatus,
    desiredStatus: event.desiredStatus ?? described.desiredStatus,
    version: event.version,
    containers: described.containers.map((c) => {
      const e = fromEvent.get(c.name);
      if (!e) return c;
      const merged: ContainerView = { ...c, lastStatus: e.lastStatus ?? c.lastStatus };
      if (e.exitCode !== undefined) merged.exitCode = e.exitCode;
      if (e.reason !== undefined) merged.reason = e.reason;
      // A container that stopped and runs again (restart policy) reports its health anew.
      if (e.lastStatus !== c.lastStatus && e.lastStatus === "RUNNING") merged.healthStatus = "UNKNOWN";
      return merged;
    }),
  };
}

/** Task statuses after which nothing runs any more (or is about to stop). */
const ENDING = new Set(["DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED", "DELETED"]);

/** The task is wanted and not on its way out (PENDING and friends included: they may be drift). */
export function isLive(view: Pick<TaskView, "lastStatus" | "desiredStatus">): boolean {
  return (view.desiredStatus ?? "RUNNING") === "RUNNING" && !ENDING.has(view.lastStatus ?? "");
}

export interface SidecarHealth {
  class: HealthClass;
  /** A stable code: why this class. */
  code: string;
  lastStatus?: string;
  healthStatus?: string;
  exitCode?: number;
  reason?: string;
}

export type TaskVerdict =
  /** Not RUNNING (yet or any more), or being stopped: a sidecar is not expected to serve. */
  | { kind: "not-running"; lastStatus?: string; desiredStatus?: string }
  /** No `dns-cache` container: not ours for health, a drift candidate for the sweep. */
  | { kind: "no-sidecar" }
  | { kind: "sidecar"; health: SidecarHealth };

function clip(reason: string | undefined): string | undefined {
  return reason === undefined || reason.length <= MAX_REASON_LENGTH
    ? reason
    : `${reason.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

/**
 * Classifies the cache sidecar of a task.
 *
 * - task not live (desired STOPPED, or DEACTIVATING…STOPPED) → not-running; live but without a `dns-cache`
 *   container → no-sidecar; live but not RUNNING yet (PROVISIONING, PENDING, ACTIVATING…) → not-running;
 * - sidecar STOPPED while the task runs → STOPPED (the app is on the fallback resolver, or without DNS when
 *   fallback is off), with its exit code and reason;
 * - sidecar RUNNING: HEALTHY → HEALTHY, UNHEALTHY → UNHEALTHY, UNKNOWN or absent → STARTING within
 *   `graceMs` of the task's start, else UNKNOWN (NO_HEALTH_STATUS: health checks off, or never reported);
 * - sidecar PENDING or without a status → STARTING within the grace, else UNKNOWN (SIDECAR_NOT_STARTED);
 * - any status this code does not know → UNKNOWN, never an error.
 */
export function classifyTask(view: TaskView, now: number, graceMs = STARTING_GRACE_MS): TaskVerdict {
  if (!isLive(view))
    return { kind: "not-running", lastStatus: view.lastStatus, desiredStatus: view.desiredStatus };
  const sidecar = sidecarOf(view);
  if (!sidecar) return { kind: "no-sidecar" };
  if (view.lastStatus !== "RUNNING")
    return { kind: "not-running", lastStatus: view.lastStatus, desiredStatus: view.desiredStatus };
  return { kind: "sidecar", health: classifySidecar(sidecar, view.startedAt, now, graceMs) };
}

export function classifySidecar(
  sidecar: ContainerView,
  startedAt: number | undefined,
  now: number,
  graceMs = STARTING_GRACE_MS,
): SidecarHealth {
  const { lastStatus, healthStatus } = sidecar;
  const about = { lastStatus, healthStatus };
  const inGrace = startedAt !== undefined && now - startedAt < graceMs;
  switch (lastStatus) {
    case "STOPPED": {
      const stopped: SidecarHealth = { class: "STOPPED", code: "SIDECAR_EXITED", ...about };
      if (sidecar.exitCode !== undefined) stopped.exitCode = sidecar.exitCode;
      const reason = clip(sidecar.reason);
      if (reason !== undefined) stopped.reason = reason;
      return stopped;
    }
    case "RUNNING":
      switch (healthStatus) {
        case "HEALTHY":
          return { class: "HEALTHY", code: "HEALTHY", ...about };
        case "UNHEALTHY":
          return { class: "UNHEALTHY", code: "HEALTH_CHECK_FAILING", ...about };
        case "UNKNOWN":
        case undefined:
          return inGrace
            ? { class: "STARTING", code: "IN_START_PERIOD", ...about }
            : { class: "UNKNOWN", code: "NO_HEALTH_STATUS", ...about };
        default:
          return { class: "UNKNOWN", code: "UNRECOGNISED_HEALTH_STATUS", ...about };
      }
    case "PENDING":
    case undefined:
      return inGrace
        ? { class: "STARTING", code: "SIDECAR_PENDING", ...about }
        : { class: "UNKNOWN", code: "SIDECAR_NOT_STARTED", ...about };
    default:
      return { class: "UNKNOWN", code: "UNRECOGNISED_CONTAINER_STATUS", ...about };
  }
}

// ------------------------------------------------------------------ events of one invocation

export interface Versioned {
  taskArn: string;
  version?: number;
}

export interface Deduplicated<T extends Versioned> {
  /** The newest state per task, in first-seen order. */
  latest: T[];
  /** Same task, same version as one kept: a repeat delivery. */
  duplicates: T[];
  /** Same task, older version than another in the invocation: arrived out of order. */
  stale: T[];
}

/** Keeps the newest state of each task by `detail.version`; repeats and older states are set aside. */
export function newestPerTask<T extends Versioned>(items: readonly T[]): Deduplicated<T> {
  const kept = new Map<string, T>();
  const duplicates: T[] = [];
  const stale: T[] = [];
  for (const item of items) {
    const current = kept.get(item.taskArn);
    if (!current) {
      kept.set(item.taskArn, item);
      continue;
    }
    const a = current.version ?? -1;
    const b = item.version ?? -1;
    if (b === a) duplicates.push(item);
    else if (b < a) stale.push(item);
    else {
      stale.push(current);
      kept.set(item.taskArn, item);
    }
  }
  return { latest: [...kept.values()], duplicates, stale };
}

// ------------------------------------------------------------------ drift

export type DriftVerdict =
  | "DRIFT"
  | "HAS_SIDECAR"
  /** An injected bridge revision: no sidecar by design; it relies on the node cache of its instance. */
  | "BRIDGE_INJECTED"
  | "NOT_OPTED_IN"
  | "REFUSED"
  | "UNKNOWN_DEFINITION";

/**
 * A running revision drifts when its family is opted in (the tag on the revision) but the revision has no
 * `dns-cache` container: typically the deploy tool used the revision it registered before the injector's.
 */
function injectable(taskDefinition: TaskDefinition, tags: readonly Tag[] | undefined): boolean {
  try {
    return inject({ taskDefinition, tags: [...(tags ?? [])] }).outcome === "injected";
  } catch {
    return false;
  }
}

export function driftOf(
  taskDefinition: TaskDefinition | undefined,
  tags: readonly Tag[] | undefined,
  optIn: TagMatch,
): DriftVerdict {
  if (!taskDefinition) return "UNKNOWN_DEFINITION";
  const containers = taskDefinition.containerDefinitions ?? [];
  if (containers.some((c) => c.name === CACHE_CONTAINER)) return "HAS_SIDECAR";
  if (hasBridgeInjection(containers)) return "BRIDGE_INJECTED";
  const optedIn = (tags ?? []).some((t) => t.key === optIn.key && t.value === optIn.value);
  if (!optedIn) return "NOT_OPTED_IN";
  // A revision the injector refuses (bridge mode, no memory left…) was reported when it was registered;
  // calling it drift on every sweep would only repeat that.
  return injectable(taskDefinition, tags) ? "DRIFT" : "REFUSED";
}

// ------------------------------------------------------------------ findings and alerts

export type FindingKind =
  | "UNHEALTHY"
  | "STOPPED"
  | "DRIFT"
  | "UNKNOWN"
  | "NODE_CACHE_UNHEALTHY"
  | "NODE_CACHE_MISSING";

/** Something worth a log line (and, except UNKNOWN, an alert). Only codes, names and ARNs. */
export interface Finding {
  kind: FindingKind;
  code: string;
  account: string;
  region: string;
  clusterArn: string;
  clusterName: string;
  /** One task (for DRIFT: the first of `taskArns`). */
  taskArn: string;
  taskDefinitionArn: string;
  family?: string;
  /** The sidecar's status (`RUNNING/UNHEALTHY`, `STOPPED`…); for DRIFT, `NO_SIDECAR`. */
  status: string;
  exitCode?: number;
  reason?: string;
  /** DRIFT: how many running tasks of this cluster run the revision, and up to 10 of them. */
  taskCount?: number;
  taskArns?: string[];
  /** NODE_CACHE_*: the EC2 container instance. */
  containerInstanceArn?: string;
}

export const DRIFT_SAMPLE_SIZE = 10;

const REASON_TEXT: Record<string, string> = {
  HEALTH_CHECK_FAILING: "the cache sidecar's health check is failing",
  SIDECAR_EXITED: "the cache sidecar exited while the task runs",
  DRIFT: "the family is opted in but the task runs a revision without the cache sidecar",
  NODE_CACHE_MISSING:
    "bridge tasks injected with the node cache run on this instance, but no node cache daemon task runs there: each of their lookups waits for a resolver timeout (deploy infra/node-cache.yaml on the cluster)",
  NODE_CACHE_UNHEALTHY: "the node cache daemon's DNS health check is failing on this instance",
  NODE_CACHE_STOPPED: "a node cache replica exited on this instance",
};

function where(view: Pick<TaskView, "taskArn" | "clusterArn" | "taskDefinitionArn">) {
  const arn = parseArn(view.taskArn) ?? parseArn(view.clusterArn);
  return {
    account: arn?.account ?? "",
    region: arn?.region ?? "",
    clusterArn: view.clusterArn,
    clusterName: clusterNameOf(view.clusterArn),
    taskArn: view.taskArn,
    taskDefinitionArn: view.taskDefinitionArn,
    family: familyOf(view.taskDefinitionArn),
  };
}

/** The finding of a sidecar class worth reporting; undefined for HEALTHY and STARTING. */
export function healthFinding(view: TaskView, health: SidecarHealth): Finding | undefined {
  if (health.class === "HEALTHY" || health.class === "STARTING") return undefined;
  const finding: Finding = {
    kind: health.class,
    code: health.code,
    ...where(view),
    status: [health.lastStatus ?? "NONE", health.healthStatus].filter(Boolean).join("/"),
  };
  if (health.exitCode !== undefined) finding.exitCode = health.exitCode;
  const reason = health.reason ?? REASON_TEXT[health.code];
  if (reason !== undefined) finding.reason = reason;
  return finding;
}

export function driftFinding(group: {
  clusterArn: string;
  taskDefinitionArn: string;
  taskArns: readonly string[];
}): Finding {
  const [first = ""] = group.taskArns;
  return {
    kind: "DRIFT",
    code: "DRIFT",
    ...where({ ...group, taskArn: first }),
    status: "NO_SIDECAR",
    reason: REASON_TEXT.DRIFT,
    taskCount: group.taskArns.length,
    taskArns: group.taskArns.slice(0, DRIFT_SAMPLE_SIZE),
  };
}

export const ALERT_DETAIL_TYPES = {
  UNHEALTHY: "DNS Cache Sidecar Unhealthy",
  STOPPED: "DNS Cache Sidecar Stopped",
  DRIFT: "DNS Cache Drift Detected",
  NODE_CACHE_UNHEALTHY: "DNS Cache Node Cache Unhealthy",
  NODE_CACHE_MISSING: "DNS Cache Node Cache Missing",
} as const satisfies Partial<Record<FindingKind, string>>;

/** Fields of a finding that logs and alerts carry (DRIFT adds a task count and sample tasks). */
export const FINDING_FIELDS = [
  "account",
  "region",
  "clusterArn",
  "taskArn",
  "taskDefinitionArn",
  "family",
  "status",
  "exitCode",
  "reason",
  "taskCount",
  "taskArns",
  "containerInstanceArn",
] as const;

/** The EventBridge event of a finding (UNKNOWN findings are logged, not alerted). */
export function alertOf(finding: Finding): Alert | undefined {
  if (finding.kind === "UNKNOWN") return undefined;
  const { clusterArn, taskArn, taskDefinitionArn } = finding;
  const detail: Record<string, unknown> = { ...pick(finding, FINDING_FIELDS), code: finding.code };
  return {
    detailType: ALERT_DETAIL_TYPES[finding.kind],
    resources:
      finding.kind === "DRIFT"
        ? [clusterArn, taskDefinitionArn]
        : finding.containerInstanceArn
          ? [clusterArn, finding.containerInstanceArn, ...(taskArn ? [taskArn] : [])]
          : [clusterArn, taskArn],
    detail,
  };
}

/** The EMF metric of each count (namespace DnsCache; dimension ClusterName, never a task). */
export const METRIC_NAMES: Record<CountKey, string> = {
  HEALTHY: "SidecarHealthy",
  UNHEALTHY: "SidecarUnhealthy",
  STARTING: "SidecarStarting",
  STOPPED: "SidecarStopped",
  UNKNOWN: "SidecarUnknown",
  DRIFT: "TasksWithoutSidecar",
};

/** Counts keyed by metric name; without the zeros unless `zeros`. */
export function metricCounts(counts: Counts, zeros: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, name] of Object.entries(METRIC_NAMES) as Array<[CountKey, string]>) {
    if (zeros || counts[key] > 0) out[name] = counts[key];
  }
  return out;
}

/**
 * The share (0–100) of running opted-in tasks that have the cache: tasks with the sidecar (in any class)
 * against those plus the drifting ones; undefined when there are none.
 */
export function coverageOf(counts: Counts): number | undefined {
  const withCache = HEALTH_CLASSES.reduce((n, c) => n + counts[c], 0);
  const all = withCache + counts.DRIFT;
  return all === 0 ? undefined : (100 * withCache) / all;
}

// ------------------------------------------------------------------ the node cache (bridge mode on EC2)

/** Node cache daemon tasks per class, and instances running injected bridge tasks without one. */
export const NODE_CACHE_CLASSES = [...HEALTH_CLASSES, "MISSING"] as const;
export type NodeCacheClass = (typeof NODE_CACHE_CLASSES)[number];
export type NodeCacheCounts = Record<NodeCacheClass, number>;
export const zeroNodeCacheCounts = (): NodeCacheCounts => ({
  HEALTHY: 0,
  UNHEALTHY: 0,
  STARTING: 0,
  STOPPED: 0,
  UNKNOWN: 0,
  MISSING: 0,
});
export const NODE_CACHE_METRIC_NAMES: Record<NodeCacheClass, string> = {
  HEALTHY: "NodeCacheHealthy",
  UNHEALTHY: "NodeCacheUnhealthy",
  STARTING: "NodeCacheStarting",
  STOPPED: "NodeCacheStopped",
  UNKNOWN: "NodeCacheUnknown",
  MISSING: "NodeCacheMissing",
};

/** A task of the node cache daemon (infra/node-cache.yaml): it runs the CoreDNS replicas. */
export function isNodeCacheTask(view: Pick<TaskView, "containers">): boolean {
  return view.containers.some((c) => NODE_CACHE_CONTAINERS.includes(c.name));
}

const SEVERITY: Record<HealthClass, number> = {
  STOPPED: 4,
  UNHEALTHY: 3,
  UNKNOWN: 2,
  STARTING: 1,
  HEALTHY: 0,
};

/** The daemon task's health: its worst replica (one replica down still serves, but is reported). */
export function classifyNodeCache(view: TaskView, now: number, graceMs = STARTING_GRACE_MS): SidecarHealth {
  const replicas = view.containers.filter((c) => NODE_CACHE_CONTAINERS.includes(c.name));
  const verdicts = replicas.map((c) => classifySidecar(c, view.startedAt, now, graceMs));
  return verdicts.reduce((worst, v) => (SEVERITY[v.class] > SEVERITY[worst.class] ? v : worst));
}

/** A daemon task worth reporting (UNHEALTHY, STOPPED); undefined otherwise. */
export function nodeCacheFinding(view: TaskView, health: SidecarHealth): Finding | undefined {
  if (health.class !== "UNHEALTHY" && health.class !== "STOPPED") return undefined;
  const finding: Finding = {
    kind: "NODE_CACHE_UNHEALTHY",
    code: health.class === "STOPPED" ? "NODE_CACHE_STOPPED" : "NODE_CACHE_UNHEALTHY",
    ...where(view),
    status: [health.lastStatus ?? "NONE", health.healthStatus].filter(Boolean).join("/"),
    reason: REASON_TEXT[health.class === "STOPPED" ? "NODE_CACHE_STOPPED" : "NODE_CACHE_UNHEALTHY"],
  };
  if (view.containerInstanceArn) finding.containerInstanceArn = view.containerInstanceArn;
  if (health.exitCode !== undefined) finding.exitCode = health.exitCode;
  return finding;
}

/** An instance running injected bridge tasks with no node cache: their lookups wait for timeouts. */
export function nodeCacheMissingFinding(group: {
  clusterArn: string;
  containerInstanceArn: string;
  taskDefinitionArn: string;
  taskArns: readonly string[];
}): Finding {
  const [first = ""] = group.taskArns;
  return {
    kind: "NODE_CACHE_MISSING",
    code: "NODE_CACHE_MISSING",
    ...where({ ...group, taskArn: first }),
    status: "NO_NODE_CACHE",
    reason: REASON_TEXT.NODE_CACHE_MISSING,
    containerInstanceArn: group.containerInstanceArn,
    taskCount: group.taskArns.length,
    taskArns: group.taskArns.slice(0, DRIFT_SAMPLE_SIZE),
  };
}
