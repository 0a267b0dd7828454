/**
 * ECS service calls of the enforcer: list, describe (with tags, ten at a time as ECS allows) and move a
 * service to another task definition. Clients are parameters. Errors the SDK could not retry away come
 * back as `RetryableError`; the answers that mean "the service is not there any more" as a reason.
 */
import {
  DescribeServicesCommand,
  type ECSClient,
  ListClustersCommand,
  ListServicesCommand,
  type Service,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { classify } from "./errors.ts";

/** DescribeServices accepts at most 10 services per call; list calls answer at most 100 per page. */
export const DESCRIBE_SERVICES_MAX = 10;
const PAGE_SIZE = 100;

export interface DescribedServices {
  services: Service[];
  /** ARNs (or names) ECS reported as failures, e.g. MISSING. */
  missing: string[];
}

const GONE = /ServiceNotFoundException|ServiceNotActiveException|ClusterNotFoundException/;

export async function listClusters(ecs: ECSClient): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs
      .send(new ListClustersCommand({ maxResults: PAGE_SIZE, ...(nextToken ? { nextToken } : {}) }))
      .catch((error: unknown) => {
        throw classify(error);
      });
    arns.push(...(out.clusterArns ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return arns;
}

/** Every service ARN of a cluster (all pages); none when the cluster is gone. */
export async function listServices(ecs: ECSClient, cluster: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    try {
      const out = await ecs.send(
        new ListServicesCommand({ cluster, maxResults: PAGE_SIZE, ...(nextToken ? { nextToken } : {}) }),
      );
      arns.push(...(out.serviceArns ?? []));
      nextToken = out.nextToken;
    } catch (error) {
      if (GONE.test((error as Error).name ?? "")) return arns;
      throw classify(error);
    }
  } while (nextToken);
  return arns;
}

/** Up to ten services of one cluster, with their tags. A missing cluster means missing services. */
export async function describeServices(
  ecs: ECSClient,
  cluster: string,
  services: readonly string[],
): Promise<DescribedServices> {
  if (services.length > DESCRIBE_SERVICES_MAX)
    throw new RangeError(`DescribeServices takes at most ${DESCRIBE_SERVICES_MAX} services`);
  try {
    const out = await ecs.send(
      new DescribeServicesCommand({ cluster, services: [...services], include: ["TAGS"] }),
    );
    return {
      services: out.services ?? [],
      missing: (out.failures ?? []).map((f) => f.arn ?? "").filter((a) => a !== ""),
    };
  } catch (error) {
    if (GONE.test((error as Error).name ?? "")) return { services: [], missing: [...services] };
    throw classify(error);
  }
}

export type UpdateResult =
  | { ok: true; service?: Service }
  | { ok: false; reason: "SERVICE_GONE" | "UPDATE_REJECTED"; message: string };

/**
 * Moves the service to `taskDefinition` and changes nothing else (no forced deployment, no other
 * field): ECS starts a rolling deployment with the service's own settings.
 */
export async function updateServiceTaskDefinition(
  ecs: ECSClient,
  cluster: string,
  service: string,
  taskDefinition: string,
): Promise<UpdateResult> {
  try {
    const out = await ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition }));
    return { ok: true, ...(out.service ? { service: out.service } : {}) };
  } catch (error) {
    const name = (error as Error).name ?? "";
    const message = (error as Error).message ?? name;
    if (GONE.test(name)) return { ok: false, reason: "SERVICE_GONE", message };
    // E.g. a CODE_DEPLOY service, or a task definition deregistered meanwhile: retrying would not help.
    if (name === "InvalidParameterException" || name === "PlatformUnknownException")
      return { ok: false, reason: "UPDATE_REJECTED", message };
    throw classify(error);
  }
}
