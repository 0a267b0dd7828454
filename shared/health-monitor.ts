/**
 * The health function's flows: Task State Change events (DescribeTasks of the tasks they name) and the
 * scheduled sweep (every running task of the account and region). Clients come in `HealthDeps`; what is
 * decided is in `health.ts`; logs and metrics go through a `HealthObserver`.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { type AlertFailure, sendAlerts } from "./alerts.ts";
import type { HealthConfig } from "./config.ts";
import type { Target } from "./ecs-clients.ts";
import { RetryableError } from "./ecs-task-definitions.ts";
import {
  type ApiCalls,
  ClusterNotFoundError,
  chunks,
  DESCRIBE_TASKS_MAX,
  type Described,
  describeTasks,
  limiter,
  listClusterArns,
  runningTaskPages,
  taskDefinitionReader,
  zeroApiCalls,
} from "./ecs-tasks.ts";
import {
  type Alert,
  alertOf,
  type Counts,
  classifyTask,
  clusterNameOf,
  driftFinding,
  driftOf,
  type Finding,
  freshest,
  healthFinding,
  isLive,
  newestPerTask,
  type TaskVerdict,
  type TaskView,
  taskViewOf,
  zeroCounts,
} from "./health.ts";
import { isSqsEvent } from "./lambda-io.ts";
import {
  isScheduledEvent,
  isTaskStateChange,
  parseTaskStateChange,
  type TaskStateChange,
} from "./task-state-event.ts";

export type Trigger = "event" | "sweep" | "ignored";

/** What one invocation did: returned by the handler and logged as its last line. */
export interface HealthSummary {
  trigger: Trigger;
  /** Tasks per sidecar class; DRIFT: running tasks of opted-in families without the sidecar. */
  counts: Counts;
  clustersScanned: number;
  /** Tasks described (sweep: every task listed; events: every task asked about). */
  tasksExamined: number;
  /** Calls made (the SDK's retries of one call are not counted again). */
  apiCalls: ApiCalls;
  alertsSent: number;
  alertsFailed: number;
  /** Calls that failed after the SDK's retries; their tasks or clusters went unexamined. */
  callsFailed: number;
  /** Events and tasks set aside, per reason code (NOT_OURS, DUPLICATE_EVENT, STALE_EVENT, TASK_MISSING…). */
  ignored: Record<string, number>;
  durationMs: number;
}

export interface IgnoredAbout {
  taskArn?: string;
  clusterArn?: string;
  taskDefinitionArn?: string;
  message?: string;
}

/** Where the outcomes go: the handler's is Powertools Logger and Metrics (`health-observer.ts`). */
export interface HealthObserver {
  /** One per UNHEALTHY or STOPPED sidecar and per drifting (cluster, task definition); UNKNOWN up to a limit. */
  finding(finding: Finding): void;
  /** `count` events or tasks set aside for `reason` (debug level: they can be many). */
  ignored(reason: string, count: number, about?: IgnoredAbout): void;
  /** Something went wrong that the invocation survives or reports (a warning line). */
  problem(reason: string, message: string, about?: Record<string, unknown>): void;
  /** The counts of one cluster (bounded dimensions: the cluster's name, never a task). */
  clusterCounts(clusterName: string, counts: Counts, options: { zeros: boolean }): void;
  alertsFailed(failures: AlertFailure[]): void;
  /** Once per invocation, last. */
  summary(summary: HealthSummary): void;
}

export interface HealthDeps {
  config: HealthConfig;
  /** The ECS client for the account and region of a Task State Change event. */
  ecsFor(target: Target): ECSClient | Promise<ECSClient>;
  /**
   * The sweep's ECS client: the function's own account and region. Organisation-wide sweeps are out of
   * scope; members' tasks are covered by their Task State Change events.
   */
  sweepEcs: ECSClient;
  events: EventBridgeClient;
  observer: HealthObserver;
  now?: () => number;
}

/** UNKNOWN sidecars logged one by one per invocation; the rest are only counted (health checks off…). */
export const UNKNOWN_LOG_LIMIT = 20;

class Invocation {
  readonly counts = zeroCounts();
  readonly perCluster = new Map<string, Counts>();
  readonly scanned = new Set<string>();
  readonly findings: Finding[] = [];
  readonly ignored: Record<string, number> = {};
  readonly calls = zeroApiCalls();
  readonly errors: RetryableError[] = [];
  readonly started: number;
  tasksExamined = 0;
  private unknownLogged = 0;

  readonly trigger: Trigger;
  readonly deps: HealthDeps;

  constructor(trigger: Trigger, deps: HealthDeps) {
    this.trigger = trigger;
    this.deps = deps;
    this.started = Date.now();
  }

  get now(): number {
    return (this.deps.now ?? Date.now)();
  }

  ignore(reason: string, count = 1, about?: IgnoredAbout): void {
    if (count <= 0) return;
    this.ignored[reason] = (this.ignored[reason] ?? 0) + count;
    this.deps.observer.ignored(reason, count, about);
  }

  countFor(clusterArn: string): Counts {
    const name = clusterNameOf(clusterArn);
    let counts = this.perCluster.get(name);
    if (!counts) {
      counts = zeroCounts();
      this.perCluster.set(name, counts);
    }
    return counts;
  }

  find(finding: Finding): void {
    this.findings.push(finding);
    if (finding.kind !== "UNKNOWN" || this.unknownLogged++ < UNKNOWN_LOG_LIMIT)
      this.deps.observer.finding(finding);
  }

  /** Classifies one task and tallies its sidecar; returns the verdict for the caller's own handling. */
  assess(view: TaskView): TaskVerdict {
    const verdict = classifyTask(view, this.now);
    if (verdict.kind !== "sidecar") return verdict;
    const { health } = verdict;
    this.counts[health.class] += 1;
    this.countFor(view.clusterArn)[health.class] += 1;
    const finding = healthFinding(view, health);
    if (finding) this.find(finding);
    return verdict;
  }

  /** A cluster listed or configured that ECS does not know (deleted since, or a typo in the allow-list). */
  clusterGone(error: ClusterNotFoundError): void {
    this.ignore("CLUSTER_NOT_FOUND", 1, { clusterArn: error.cluster });
    this.deps.observer.problem(error.reason, error.message, { clusterArn: error.cluster });
  }

  failed(error: unknown, about: Record<string, unknown> = {}): void {
    const retryable = error instanceof RetryableError ? error : new RetryableError("ERROR", String(error));
    this.errors.push(retryable);
    this.deps.observer.problem(retryable.reason, retryable.message, about);
  }

  /** Alerts, metrics, the summary line; throws when an event's calls failed and nothing was alerted. */
  async finish(): Promise<HealthSummary> {
    const { config, observer } = this.deps;
    const alerts = this.findings.map(alertOf).filter((a): a is Alert => a !== undefined);
    let alertsSent = 0;
    let alertsFailed = 0;
    if (alerts.length > 0) {
      const result = await sendAlerts(this.deps.events, config.alertBus, alerts, this.calls);
      alertsSent = result.sent;
      alertsFailed = result.failed.length;
      if (result.failed.length > 0) observer.alertsFailed(result.failed);
      this.errors.push(...result.errors);
    }
    const zeros = this.trigger === "sweep";
    for (const name of zeros ? this.scanned : this.perCluster.keys()) {
      observer.clusterCounts(name, this.perCluster.get(name) ?? zeroCounts(), { zeros });
    }
    const summary: HealthSummary = {
      trigger: this.trigger,
      counts: this.counts,
      clustersScanned: this.scanned.size,
      tasksExamined: this.tasksExamined,
      apiCalls: this.calls,
      alertsSent,
      alertsFailed,
      callsFailed: this.errors.length,
      ignored: this.ignored,
      durationMs: Date.now() - this.started,
    };
    observer.summary(summary);
    const [first] = this.errors;
    // Retry only what retrying can fix without repeating alerts: a sweep is retried by the next one,
    // and an invocation that sent alerts would send them again.
    if (first && this.trigger === "event" && alertsSent === 0) {
      throw new RetryableError(
        first.reason,
        `${this.errors.length} call(s) failed after the SDK's retries (the first: ${first.message})`,
        { cause: first },
      );
    }
    return summary;
  }
}

// ------------------------------------------------------------------ Task State Change events

/**
 * Checks the tasks named by a batch of Task State Change events: the newest event per task (by
 * `detail.version`) decides whether it is worth a look; running tasks are described (up to 100 per call,
 * per account, region and cluster) and their sidecars classified on the fresher of the two views.
 */
export async function checkTaskStateChanges(
  events: readonly unknown[],
  deps: HealthDeps,
  preIgnored: Record<string, number> = {},
): Promise<HealthSummary> {
  const inv = new Invocation("event", deps);
  for (const [reason, count] of Object.entries(preIgnored)) inv.ignore(reason, count);
  const changes: TaskStateChange[] = [];
  for (const event of events) {
    const parsed = parseTaskStateChange(event);
    if (parsed.ok) changes.push(parsed.change);
    else inv.ignore(parsed.reason, 1, { message: parsed.message });
  }
  const { latest, duplicates, stale } = newestPerTask(changes);
  for (const c of duplicates) inv.ignore("DUPLICATE_EVENT", 1, { taskArn: c.taskArn });
  for (const c of stale) inv.ignore("STALE_EVENT", 1, { taskArn: c.taskArn });

  const groups = new Map<
    string,
    { target: { account: string; region: string }; cluster: string; changes: TaskStateChange[] }
  >();
  for (const change of latest) {
    if (change.lastStatus !== "RUNNING" || !isLive(change)) {
      inv.ignore("TASK_NOT_RUNNING", 1, { taskArn: change.taskArn, clusterArn: change.clusterArn });
      continue;
    }
    const key = `${change.account}|${change.region}|${change.clusterArn}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        target: { account: change.account, region: change.region },
        cluster: change.clusterArn,
        changes: [],
      };
      groups.set(key, group);
    }
    group.changes.push(change);
  }

  const limit = limiter(deps.config.sweepConcurrency);
  const batches = [...groups.values()].flatMap((group) =>
    chunks(group.changes, DESCRIBE_TASKS_MAX).map((batch) => ({ ...group, changes: batch })),
  );
  await Promise.all(
    batches.map(async ({ target, cluster, changes: batch }) => {
      const byArn = new Map(batch.map((c) => [c.taskArn, c]));
      inv.tasksExamined += batch.length;
      let described: Described;
      try {
        const ecs = await deps.ecsFor(target);
        described = await describeTasks(ecs, cluster, [...byArn.keys()], inv.calls, limit);
      } catch (error) {
        if (error instanceof ClusterNotFoundError) {
          inv.ignore("TASK_MISSING", batch.length, { clusterArn: cluster, message: error.message });
          return;
        }
        inv.failed(error, { clusterArn: cluster });
        return;
      }
      for (const task of described.tasks) {
        const view = taskViewOf(task);
        if (!view) continue;
        const change = byArn.get(view.taskArn);
        byArn.delete(view.taskArn);
        const verdict = inv.assess(freshest(view, change));
        if (verdict.kind === "not-running") inv.ignore("TASK_NOT_RUNNING", 1, { taskArn: view.taskArn });
        else if (verdict.kind === "no-sidecar") inv.ignore("NOT_OURS", 1, { taskArn: view.taskArn });
      }
      ignoreFailures(inv, described, byArn);
      for (const arn of byArn.keys()) inv.ignore("NOT_DESCRIBED", 1, { taskArn: arn, clusterArn: cluster });
    }),
  );
  return inv.finish();
}

/** DescribeTasks `failures`: MISSING is a task gone since (ignored); other reasons are reported. */
function ignoreFailures(inv: Invocation, described: Described, pending?: Map<string, unknown>): void {
  for (const failure of described.failures) {
    const arn = failure.arn ?? "";
    pending?.delete(arn);
    if (failure.reason === "MISSING") {
      inv.ignore("TASK_MISSING", 1, { taskArn: arn });
    } else {
      inv.ignore("DESCRIBE_FAILED", 1, { taskArn: arn, message: failure.reason });
      inv.deps.observer.problem(
        "DESCRIBE_FAILED",
        `DescribeTasks failure: ${failure.reason ?? "no reason"}`,
        {
          taskArn: arn,
          detail: failure.detail,
        },
      );
    }
  }
}

// ------------------------------------------------------------------ the sweep

interface DriftCandidates {
  clusterArn: string;
  taskDefinitionArn: string;
  taskArns: string[];
}

/**
 * Every task with desired status RUNNING in the allowed clusters of the function's own account and region:
 * ListClusters (unless the clusters are configured) → ListTasks → DescribeTasks (one call per page of up to
 * 100), at most `sweepConcurrency` calls in flight, the SDK retrying throttled calls. Tasks without the
 * sidecar are drift when their revision is opted in and has no sidecar: each distinct revision is read once.
 */
export async function sweep(deps: HealthDeps): Promise<HealthSummary> {
  const inv = new Invocation("sweep", deps);
  const { config } = deps;
  const ecs = deps.sweepEcs;
  const limit = limiter(config.sweepConcurrency);
  const readTaskDefinition = taskDefinitionReader(inv.calls, limit);
  const candidates = new Map<string, DriftCandidates>();

  let clusters: string[];
  try {
    clusters = config.clusters.length > 0 ? config.clusters : await listClusterArns(ecs, inv.calls, limit);
  } catch (error) {
    inv.failed(error);
    return inv.finish();
  }

  const onDescribed = (described: Described): void => {
    inv.tasksExamined += described.tasks.length + described.failures.length;
    for (const task of described.tasks) {
      const view = taskViewOf(task);
      if (!view) {
        inv.ignore("MALFORMED_TASK", 1, { taskArn: task.taskArn });
        continue;
      }
      const verdict = inv.assess(view);
      if (verdict.kind === "not-running") inv.ignore("TASK_NOT_RUNNING", 1);
      else if (verdict.kind === "no-sidecar") {
        const key = `${view.clusterArn}|${view.taskDefinitionArn}`;
        let group = candidates.get(key);
        if (!group) {
          group = { clusterArn: view.clusterArn, taskDefinitionArn: view.taskDefinitionArn, taskArns: [] };
          candidates.set(key, group);
          // Read as soon as it is seen; the promise is awaited below (and shared by every cluster).
          readTaskDefinition(ecs, view.taskDefinitionArn).catch(() => undefined);
        }
        group.taskArns.push(view.taskArn);
      }
    }
    ignoreFailures(inv, described);
  };

  await Promise.all(
    clusters.map(async (cluster) => {
      const describing: Promise<void>[] = [];
      try {
        for await (const page of runningTaskPages(ecs, cluster, inv.calls, limit)) {
          const described = describeTasks(ecs, cluster, page, inv.calls, limit).then(onDescribed);
          described.catch(() => undefined); // handled below; never an unhandled rejection meanwhile
          describing.push(described);
        }
      } catch (error) {
        if (error instanceof ClusterNotFoundError) inv.clusterGone(error);
        else inv.failed(error, { clusterArn: cluster });
        await Promise.allSettled(describing);
        return;
      }
      const results = await Promise.allSettled(describing);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (rejected) {
        if (rejected.reason instanceof ClusterNotFoundError) inv.clusterGone(rejected.reason);
        else inv.failed(rejected.reason, { clusterArn: cluster });
        return;
      }
      inv.scanned.add(clusterNameOf(cluster));
    }),
  );

  for (const group of candidates.values()) {
    let described: Awaited<ReturnType<typeof readTaskDefinition>>;
    try {
      described = await readTaskDefinition(ecs, group.taskDefinitionArn);
    } catch (error) {
      inv.ignore("DRIFT_NOT_CHECKED", group.taskArns.length, { taskDefinitionArn: group.taskDefinitionArn });
      inv.failed(error, { taskDefinitionArn: group.taskDefinitionArn });
      continue;
    }
    const verdict = driftOf(described?.taskDefinition, described?.tags, config.optIn);
    const about = { clusterArn: group.clusterArn, taskDefinitionArn: group.taskDefinitionArn };
    if (verdict === "DRIFT") {
      const n = group.taskArns.length;
      inv.counts.DRIFT += n;
      inv.countFor(group.clusterArn).DRIFT += n;
      inv.find(driftFinding(group));
    } else if (verdict === "NOT_OPTED_IN") inv.ignore("NOT_OURS", group.taskArns.length, about);
    else if (verdict === "HAS_SIDECAR") inv.ignore("SIDECAR_NOT_LISTED", group.taskArns.length, about);
    else if (verdict === "REFUSED") inv.ignore("INJECTION_REFUSED", group.taskArns.length, about);
    else inv.ignore("TASK_DEFINITION_NOT_FOUND", group.taskArns.length, about);
  }
  return inv.finish();
}

// ------------------------------------------------------------------ dispatch

/**
 * The handler's entry: a Task State Change event (direct from EventBridge), an SQS batch of them, or a
 * Scheduled Event (the sweep). Anything else is ignored, counted and logged, never thrown.
 */
export async function handleHealthEvent(event: unknown, deps: HealthDeps): Promise<HealthSummary> {
  if (isSqsEvent(event)) {
    const bodies: unknown[] = [];
    let malformed = 0;
    for (const record of event.Records) {
      try {
        bodies.push(JSON.parse(record.body));
      } catch {
        malformed += 1;
      }
    }
    return checkTaskStateChanges(bodies, deps, malformed > 0 ? { MALFORMED_EVENT: malformed } : {});
  }
  if (isTaskStateChange(event)) return checkTaskStateChanges([event], deps);
  if (isScheduledEvent(event)) {
    if (deps.config.sweep) return sweep(deps);
    return ignoredInvocation("SWEEP_DISABLED", "a scheduled event arrived but DNS_CACHE_SWEEP is off", deps);
  }
  return ignoredInvocation("UNRECOGNISED_EVENT", "neither a Task State Change nor a Scheduled Event", deps);
}

async function ignoredInvocation(reason: string, message: string, deps: HealthDeps): Promise<HealthSummary> {
  const inv = new Invocation("ignored", deps);
  inv.ignore(reason, 1, { message });
  return inv.finish();
}
