/**
 * ECS reads of the health function: clusters, running tasks, task descriptions and (cached) task definitions.
 * Clients are parameters; every call is counted in `calls`. Errors the SDK could not retry away come back
 * as `RetryableError` (see `classify`), a cluster that does not exist as `ClusterNotFoundError`.
 */
import {
  DescribeTasksCommand,
  type ECSClient,
  type Failure,
  ListClustersCommand,
  ListTasksCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import type { Limit } from "#shared/runtime/concurrency.ts";
import { type DescribedTaskDefinition, describeTaskDefinition } from "./ecs-task-definitions.ts";
import { classify } from "./errors.ts";

/** DescribeTasks accepts at most 100 tasks; ListTasks and ListClusters answer at most 100 per page. */
export const DESCRIBE_TASKS_MAX = 100;
export const PAGE_SIZE = 100;

export const API_OPERATIONS = [
  "ListClusters",
  "ListTasks",
  "DescribeTasks",
  "DescribeTaskDefinition",
  "PutEvents",
] as const;
export type ApiOperation = (typeof API_OPERATIONS)[number];
export type ApiCalls = Record<ApiOperation, number>;

export const zeroApiCalls = (): ApiCalls => ({
  ListClusters: 0,
  ListTasks: 0,
  DescribeTasks: 0,
  DescribeTaskDefinition: 0,
  PutEvents: 0,
});

export class ClusterNotFoundError extends Error {
  override readonly name = "ClusterNotFoundError";
  readonly reason = "CLUSTER_NOT_FOUND";
  readonly cluster: string;
  constructor(cluster: string, options?: ErrorOptions) {
    super(`cluster ${cluster} was not found`, options);
    this.cluster = cluster;
  }
}

function rethrow(error: unknown, cluster?: string): never {
  if (cluster !== undefined && (error as { name?: string }).name === "ClusterNotFoundException") {
    throw new ClusterNotFoundError(cluster, { cause: error });
  }
  throw classify(error);
}

const unlimited: Limit = (fn) => fn();

/** Every cluster ARN of the client's account and region (all pages). */
export async function listClusterArns(client: ECSClient, calls: ApiCalls, limit: Limit = unlimited) {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    calls.ListClusters += 1;
    const token = nextToken;
    const page = await limit(() =>
      client.send(new ListClustersCommand({ maxResults: PAGE_SIZE, ...(token ? { nextToken: token } : {}) })),
    ).catch((error: unknown) => rethrow(error));
    arns.push(...(page.clusterArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

/** Pages (up to 100 ARNs each) of the tasks of `cluster` whose desired status is RUNNING. */
export async function* runningTaskPages(
  client: ECSClient,
  cluster: string,
  calls: ApiCalls,
  limit: Limit = unlimited,
): AsyncGenerator<string[]> {
  let nextToken: string | undefined;
  do {
    calls.ListTasks += 1;
    const token = nextToken;
    const page = await limit(() =>
      client.send(
        new ListTasksCommand({
          cluster,
          desiredStatus: "RUNNING",
          maxResults: PAGE_SIZE,
          ...(token ? { nextToken: token } : {}),
        }),
      ),
    ).catch((error: unknown) => rethrow(error, cluster));
    const arns = page.taskArns ?? [];
    if (arns.length > 0) yield arns;
    nextToken = page.nextToken;
  } while (nextToken);
}

export interface Described {
  tasks: Task[];
  failures: Failure[];
}

/** DescribeTasks for up to 100 tasks of one cluster. */
export async function describeTasks(
  client: ECSClient,
  cluster: string,
  taskArns: readonly string[],
  calls: ApiCalls,
  limit: Limit = unlimited,
): Promise<Described> {
  if (taskArns.length === 0) return { tasks: [], failures: [] };
  if (taskArns.length > DESCRIBE_TASKS_MAX) {
    throw new RangeError(`DescribeTasks takes at most ${DESCRIBE_TASKS_MAX} tasks, got ${taskArns.length}`);
  }
  calls.DescribeTasks += 1;
  const out = await limit(() =>
    client.send(new DescribeTasksCommand({ cluster, tasks: [...taskArns] })),
  ).catch((error: unknown) => rethrow(error, cluster));
  return { tasks: out.tasks ?? [], failures: out.failures ?? [] };
}

/**
 * DescribeTaskDefinition with TAGS, at most once per task definition ARN for the reader's lifetime (one
 * invocation). Failures are not cached twice: a rejected read is shared by the callers that asked for it.
 */
export function taskDefinitionReader(
  calls: ApiCalls,
  limit: Limit = unlimited,
): (client: ECSClient, taskDefinitionArn: string) => Promise<DescribedTaskDefinition | undefined> {
  const cache = new Map<string, Promise<DescribedTaskDefinition | undefined>>();
  return (client, taskDefinitionArn) => {
    let described = cache.get(taskDefinitionArn);
    if (!described) {
      calls.DescribeTaskDefinition += 1;
      described = limit(() => describeTaskDefinition(client, taskDefinitionArn));
      cache.set(taskDefinitionArn, described);
    }
    return described;
  };
}
