/**
 * The reconcile sweep of one account and region: ListClusters → ListServices → DescribeServices in tens
 * (task definitions described once per invocation, through the scope), every service judged, the moves
 * re-read in tens and written with bounded concurrency. A failing cluster never stops the others.
 */
import type { Service } from "@aws-sdk/client-ecs";
import {
  DESCRIBE_SERVICES_MAX,
  describeServices,
  listClusters,
  listServices,
} from "#shared/aws/ecs-services.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import { chunks, limiter } from "#shared/runtime/concurrency.ts";
import { converge, type Recheck } from "./converge.ts";
import { aboutService, type Decision } from "./decide.ts";
import { isMove, type JudgeDeps, judge } from "./judge.ts";
import type { Scope } from "./scope.ts";

export interface SweepFailure {
  account: string;
  region: string;
  cluster?: string;
  reason: string;
  message: string;
}

export interface ScopeSweep {
  decisions: Decision[];
  failures: SweepFailure[];
  describeServicesCalls: number;
}

async function describeAll(scope: Scope, cluster: string, arns: string[], counter: { calls: number }) {
  const out: Service[] = [];
  for (const batch of chunks(arns, DESCRIBE_SERVICES_MAX)) {
    counter.calls += 1;
    out.push(...(await describeServices(scope.ecs, cluster, batch)).services);
  }
  return out;
}

/** Re-reads the services about to be moved, ten per call. */
export function recheckIn(scope: Scope, cluster: string, counter: { calls: number }): Recheck {
  return async (services) => {
    const fresh = await describeAll(
      scope,
      cluster,
      services.map((s) => s.serviceArn ?? ""),
      counter,
    );
    const byArn = new Map(fresh.map((s) => [s.serviceArn ?? "", s]));
    return new Map(services.map((s) => [s.serviceArn ?? "", byArn.get(s.serviceArn ?? "")]));
  };
}

/** Judges a list of described services of one cluster and moves those that need it. */
export async function decideAll(
  services: Service[],
  cluster: string,
  scope: Scope,
  deps: JudgeDeps,
  counter: { calls: number },
): Promise<Decision[]> {
  const limit = limiter(4);
  // One service's failure (after the SDK's retries) is its own decision; the sweep goes on.
  const failed = (error: unknown, svc: Service): Decision => ({
    outcome: "failed",
    reason: error instanceof RetryableError ? error.reason : "INTERNAL",
    message: (error as Error)?.message ?? String(error),
    ...aboutService(svc),
  });
  const verdicts = await Promise.all(
    services.map((svc) => limit(() => judge(svc, scope, deps).catch((error: unknown) => failed(error, svc)))),
  );
  const decisions = verdicts.filter((v): v is Decision => !isMove(v));
  // At most one re-read (ten services) of moves per cluster and sweep: a bounded budget of rollouts, the
  // rest come back at the next sweep (or their next event).
  const all = verdicts.filter(isMove);
  const moves = all.slice(0, deps.config.movesPerCluster);
  const later = all.slice(deps.config.movesPerCluster).map(
    (m): Decision => ({
      outcome: "left",
      reason: "MOVE_DEFERRED",
      message: `more than ${deps.config.movesPerCluster} services of the cluster to move in one sweep; the next sweep comes back`,
      ...aboutService(m.svc),
      copyArn: m.copyArn,
    }),
  );
  return [
    ...decisions,
    ...later,
    ...(await converge(moves, scope, deps, recheckIn(scope, cluster, counter), failed)),
  ];
}

function failureOf(scope: Scope, error: unknown, cluster?: string): SweepFailure {
  return {
    account: scope.target.account,
    region: scope.target.region,
    ...(cluster ? { cluster } : {}),
    reason: error instanceof RetryableError ? error.reason : "INTERNAL",
    message: (error as Error)?.message ?? String(error),
  };
}

export async function sweepScope(
  scope: Scope,
  deps: JudgeDeps,
  only?: (svc: Service) => boolean,
): Promise<ScopeSweep> {
  const counter = { calls: 0 };
  const failures: SweepFailure[] = [];
  let clusters: string[];
  try {
    clusters = await listClusters(scope.ecs);
  } catch (error) {
    return { decisions: [], failures: [failureOf(scope, error)], describeServicesCalls: 0 };
  }
  const limit = limiter(deps.config.clusterConcurrency);
  const perCluster = await Promise.all(
    clusters.map((cluster) =>
      limit(async () => {
        try {
          const arns = await listServices(scope.ecs, cluster);
          const services = (await describeAll(scope, cluster, arns, counter)).filter((s) => !only || only(s));
          return await decideAll(services, cluster, scope, deps, counter);
        } catch (error) {
          failures.push(failureOf(scope, error, cluster));
          return [];
        }
      }),
    ),
  );
  return { decisions: perCluster.flat(), failures, describeServicesCalls: counter.calls };
}
