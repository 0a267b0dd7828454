/** Task State Change events: the tasks they name are described and their sidecars classified. */
import type { Target } from "#shared/aws/clients.ts";
import {
  ClusterNotFoundError,
  DESCRIBE_TASKS_MAX,
  type Described,
  describeTasks,
} from "#shared/aws/ecs-tasks.ts";
import { chunks, type Limit, limiter } from "#shared/runtime/concurrency.ts";
import { freshest, isLive, newestPerTask, taskViewOf } from "./classify.ts";
import { type HealthDeps, type HealthSummary, Invocation, ignoreFailures } from "./invocation.ts";
import { parseTaskStateChange, type TaskStateChange } from "./task-state-event.ts";

interface ClusterBatch {
  target: Target;
  cluster: string;
  changes: TaskStateChange[];
}

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

  const limit = limiter(deps.config.sweepConcurrency);
  const batches = runningByCluster(inv, latest).flatMap((group) =>
    chunks(group.changes, DESCRIBE_TASKS_MAX).map((batch) => ({ ...group, changes: batch })),
  );
  await Promise.all(batches.map((batch) => checkBatch(inv, batch, limit)));
  return inv.finish();
}

/** Running tasks grouped per account, region and cluster (one DescribeTasks each); the rest set aside. */
function runningByCluster(inv: Invocation, latest: readonly TaskStateChange[]): ClusterBatch[] {
  const groups = new Map<string, ClusterBatch>();
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
  return [...groups.values()];
}

async function checkBatch(inv: Invocation, { target, cluster, changes }: ClusterBatch, limit: Limit) {
  const byArn = new Map(changes.map((c) => [c.taskArn, c]));
  inv.tasksExamined += changes.length;
  let described: Described;
  try {
    const ecs = await inv.deps.ecsFor(target);
    described = await describeTasks(ecs, cluster, [...byArn.keys()], inv.calls, limit);
  } catch (error) {
    if (error instanceof ClusterNotFoundError) {
      inv.ignore("TASK_MISSING", changes.length, { clusterArn: cluster, message: error.message });
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
}
