/**
 * One invocation of the health function: its counts, findings and failed calls, and how it ends (alerts,
 * metrics, one summary line). The flows (`task-events.ts`, `sweep.ts`) feed it; the observer reports it.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { type Alert, type AlertFailure, sendAlerts } from "#shared/aws/alerts.ts";
import type { Target } from "#shared/aws/clients.ts";
import {
  type ApiCalls,
  type ClusterNotFoundError,
  type Described,
  zeroApiCalls,
} from "#shared/aws/ecs-tasks.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import { clusterNameOf } from "#shared/runtime/arn.ts";
import {
  alertOf,
  type Counts,
  classifyNodeCache,
  classifyTask,
  type Finding,
  healthFinding,
  isLive,
  type NodeCacheCounts,
  nodeCacheFinding,
  type TaskVerdict,
  type TaskView,
  zeroCounts,
  zeroNodeCacheCounts,
} from "./classify.ts";
import type { HealthConfig } from "./config.ts";

export type Trigger = "event" | "sweep" | "ignored";

/** What one invocation did: returned by the handler and logged as its last line. */
export interface HealthSummary {
  trigger: Trigger;
  /** Tasks per sidecar class; DRIFT: running tasks of opted-in families without the sidecar. */
  counts: Counts;
  /** Node cache daemon tasks (bridge mode) per class; MISSING: instances with injected bridge tasks and none. */
  nodeCache: NodeCacheCounts;
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

/** Where the outcomes go: the handler's is Powertools Logger and Metrics (`observer.ts`). */
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
  /**
   * Accounts or regions an organisation sweep could not list or sweep. Each swept account reports its own
   * summary; these have none, so they are counted here (in CallsFailed, which the alarm watches).
   */
  accountsFailed(count: number): void;
  /** Once per invocation, last. */
  summary(summary: HealthSummary): void;
}

export interface HealthDeps {
  config: HealthConfig;
  /** The ECS client for the account and region of a Task State Change event. */
  ecsFor(target: Target): ECSClient | Promise<ECSClient>;
  /**
   * The sweep's ECS client: the function's own account and region (organisation sweeps: `sweepTargets`).
   */
  sweepEcs: ECSClient;
  /**
   * Organisation mode with DNS_CACHE_SWEEP_ACCOUNTS: the accounts and regions a sweep covers, each through
   * `ecsFor` (the member role); absent: the function's own account and region only (`sweepEcs`).
   */
  sweepTargets?: () => Promise<{
    targets: Target[];
    failures: Array<Target & { reason: string; message: string }>;
  }>;
  events: EventBridgeClient;
  observer: HealthObserver;
  now?: () => number;
}

/** UNKNOWN sidecars logged one by one per invocation; the rest are only counted (health checks off…). */
export const UNKNOWN_LOG_LIMIT = 20;

export class Invocation {
  readonly counts = zeroCounts();
  readonly nodeCache = zeroNodeCacheCounts();
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

  /** Classifies a node cache daemon task (infra/node-cache.yaml) and reports it when it is not serving. */
  assessNodeCache(view: TaskView): boolean {
    if (!isLive(view)) return false;
    const health = classifyNodeCache(view, this.now);
    this.nodeCache[health.class] += 1;
    const finding = nodeCacheFinding(view, health);
    if (finding) this.find(finding);
    return true;
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
      nodeCache: this.nodeCache,
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

/** DescribeTasks `failures`: MISSING is a task gone since (ignored); other reasons are reported. */
export function ignoreFailures(inv: Invocation, described: Described, pending?: Map<string, unknown>): void {
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
