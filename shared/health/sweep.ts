/**
 * The scheduled sweep: every task with desired status RUNNING in the allowed clusters of the function's own
 * account and region: ListClusters (unless the clusters are configured) → ListTasks → DescribeTasks (one call
 * per page of up to 100), at most `sweepConcurrency` calls in flight, the SDK retrying throttled calls. Tasks
 * without the sidecar are drift when their revision is opted in and has no sidecar: each distinct revision is
 * read once.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import {
  ClusterNotFoundError,
  type Described,
  describeTasks,
  listClusterArns,
  runningTaskPages,
  taskDefinitionReader,
} from "#shared/aws/ecs-tasks.ts";
import { clusterNameOf } from "#shared/runtime/arn.ts";
import { type Limit, limiter } from "#shared/runtime/concurrency.ts";
import {
  driftFinding,
  driftOf,
  isNodeCacheTask,
  nodeCacheMissingFinding,
  type TaskView,
  taskViewOf,
} from "./classify.ts";
import { type HealthDeps, type HealthSummary, Invocation, ignoreFailures } from "./invocation.ts";

interface DriftCandidates {
  clusterArn: string;
  taskDefinitionArn: string;
  taskArns: string[];
  /** EC2 tasks by container instance: bridge tasks depend on their instance's node cache. */
  byInstance: Map<string, string[]>;
}

type ReadTaskDefinition = ReturnType<typeof taskDefinitionReader>;

interface SweepRun {
  inv: Invocation;
  ecs: ECSClient;
  limit: Limit;
  readTaskDefinition: ReadTaskDefinition;
  /** Tasks without the sidecar, per (cluster, task definition). */
  candidates: Map<string, DriftCandidates>;
  /** Container instances (cluster|instance) where a live node cache daemon task was seen. */
  nodeCaches: Set<string>;
}

const instanceKey = (clusterArn: string, instance: string) => `${clusterArn}|${instance}`;

export async function sweep(deps: HealthDeps): Promise<HealthSummary> {
  const inv = new Invocation("sweep", deps);
  const limit = limiter(deps.config.sweepConcurrency);
  const run: SweepRun = {
    inv,
    ecs: deps.sweepEcs,
    limit,
    readTaskDefinition: taskDefinitionReader(inv.calls, limit),
    candidates: new Map(),
    nodeCaches: new Set(),
  };
  let clusters: string[];
  try {
    clusters =
      deps.config.clusters.length > 0
        ? deps.config.clusters
        : await listClusterArns(run.ecs, inv.calls, limit);
  } catch (error) {
    inv.failed(error);
    return inv.finish();
  }
  await Promise.all(clusters.map((cluster) => sweepCluster(run, cluster)));
  // Drift is judged after every cluster is described, so every node cache task has been seen.
  for (const group of run.candidates.values()) await judgeDrift(run, group);
  return inv.finish();
}

/** Describes a cluster's running tasks page by page; the cluster counts as scanned only when all succeeded. */
async function sweepCluster(run: SweepRun, cluster: string): Promise<void> {
  const { inv, ecs, limit } = run;
  const describing: Promise<void>[] = [];
  try {
    for await (const page of runningTaskPages(ecs, cluster, inv.calls, limit)) {
      const described = describeTasks(ecs, cluster, page, inv.calls, limit).then((d) => onDescribed(run, d));
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
}

function onDescribed(run: SweepRun, described: Described): void {
  const { inv } = run;
  inv.tasksExamined += described.tasks.length + described.failures.length;
  for (const task of described.tasks) {
    const view = taskViewOf(task);
    if (!view) {
      inv.ignore("MALFORMED_TASK", 1, { taskArn: task.taskArn });
      continue;
    }
    if (isNodeCacheTask(view)) {
      if (!inv.assessNodeCache(view)) inv.ignore("TASK_NOT_RUNNING", 1);
      else if (view.containerInstanceArn)
        run.nodeCaches.add(instanceKey(view.clusterArn, view.containerInstanceArn));
      continue;
    }
    const verdict = inv.assess(view);
    if (verdict.kind === "not-running") inv.ignore("TASK_NOT_RUNNING", 1);
    else if (verdict.kind === "no-sidecar") addCandidate(run, view);
  }
  ignoreFailures(inv, described);
}

function addCandidate(run: SweepRun, view: TaskView): void {
  const key = `${view.clusterArn}|${view.taskDefinitionArn}`;
  let group = run.candidates.get(key);
  if (!group) {
    group = {
      clusterArn: view.clusterArn,
      taskDefinitionArn: view.taskDefinitionArn,
      taskArns: [],
      byInstance: new Map(),
    };
    run.candidates.set(key, group);
    // Read as soon as it is seen; the promise is awaited in judgeDrift (and shared by every cluster).
    run.readTaskDefinition(run.ecs, view.taskDefinitionArn).catch(() => undefined);
  }
  group.taskArns.push(view.taskArn);
  if (view.containerInstanceArn) {
    const onInstance = group.byInstance.get(view.containerInstanceArn) ?? [];
    onInstance.push(view.taskArn);
    group.byInstance.set(view.containerInstanceArn, onInstance);
  }
}

async function judgeDrift(run: SweepRun, group: DriftCandidates): Promise<void> {
  const { inv } = run;
  let described: Awaited<ReturnType<ReadTaskDefinition>>;
  try {
    described = await run.readTaskDefinition(run.ecs, group.taskDefinitionArn);
  } catch (error) {
    inv.ignore("DRIFT_NOT_CHECKED", group.taskArns.length, { taskDefinitionArn: group.taskDefinitionArn });
    inv.failed(error, { taskDefinitionArn: group.taskDefinitionArn });
    return;
  }
  const verdict = driftOf(described?.taskDefinition, described?.tags, inv.deps.config.optIn);
  const about = { clusterArn: group.clusterArn, taskDefinitionArn: group.taskDefinitionArn };
  const n = group.taskArns.length;
  if (verdict === "DRIFT") {
    inv.counts.DRIFT += n;
    inv.countFor(group.clusterArn).DRIFT += n;
    inv.find(driftFinding(group));
  } else if (verdict === "NOT_OPTED_IN") inv.ignore("NOT_OURS", n, about);
  else if (verdict === "HAS_SIDECAR") inv.ignore("SIDECAR_NOT_LISTED", n, about);
  else if (verdict === "BRIDGE_INJECTED") {
    inv.ignore("BRIDGE_INJECTED", n, about);
    checkNodeCaches(run, group);
  } else if (verdict === "REFUSED") inv.ignore("INJECTION_REFUSED", n, about);
  else inv.ignore("TASK_DEFINITION_NOT_FOUND", n, about);
}

/**
 * Injected bridge tasks rely on their instance's node cache: an instance of a fully scanned cluster
 * without a live daemon task is reported (once per instance and task definition).
 */
function checkNodeCaches(run: SweepRun, group: DriftCandidates): void {
  const { inv } = run;
  if (!inv.scanned.has(clusterNameOf(group.clusterArn))) return;
  for (const [containerInstanceArn, taskArns] of group.byInstance) {
    if (run.nodeCaches.has(instanceKey(group.clusterArn, containerInstanceArn))) continue;
    inv.nodeCache.MISSING += 1;
    inv.find(
      nodeCacheMissingFinding({
        clusterArn: group.clusterArn,
        containerInstanceArn,
        taskDefinitionArn: group.taskDefinitionArn,
        taskArns,
      }),
    );
  }
}
