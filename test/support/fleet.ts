/**
 * Seeds an `EcsState` with a fleet of running tasks for the health function's sweep: opted-in families with
 * a source revision (no sidecar, rev 1) and an injected revision (with `dns-cache-init` and `dns-cache`,
 * rev 2), plus families that are not opted in. Each task gets a kind, drawn deterministically (seeded) from
 * `mix`, and `expected` says what a sweep must count.
 *
 *   const fleet = seedFleet(standin.state, { clusters: 100, tasksPerCluster: 100 });
 *   // fleet.expected.HEALTHY, fleet.expected.DRIFT, fleet.driftGroups, fleet.taskDefinitionsWithoutSidecar…
 *
 * Written with erasable TypeScript only, so Node runs it directly (benchmarks import it without a build).
 */

import type { Container, RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import type { EcsState } from "./ecs-state.ts";
import { seededRandom } from "./random.ts";

/** What a seeded task looks like to the health function. */
export type FleetKind =
  | "healthy"
  | "unhealthy"
  | "starting"
  | "stopped"
  | "unknown"
  /** An opted-in family's source revision: running without the sidecar. */
  | "drift"
  /** A family that is not opted in, without the sidecar: not ours. */
  | "plain"
  /** Desired RUNNING but still PENDING (with the sidecar): listed, not classified. */
  | "pending";

export const FLEET_KINDS: readonly FleetKind[] = [
  "healthy",
  "unhealthy",
  "starting",
  "stopped",
  "unknown",
  "drift",
  "plain",
  "pending",
];

export interface FleetOptions {
  clusters: number;
  /** Tasks in each cluster, or a function of the cluster's index (0-based). */
  tasksPerCluster: number | ((clusterIndex: number) => number);
  /** Opted-in families (each with a source and an injected revision). Default 10. */
  families?: number;
  /** Families that are not opted in. Default 5. */
  plainFamilies?: number;
  /** Relative weights of the kinds. Default: mostly healthy, a few of every other kind. */
  mix?: Partial<Record<FleetKind, number>>;
  /** Seed of the kind and family draws. Default 1. */
  seed?: number;
  /** Epoch ms the tasks' start times are relative to. Default `state.now()`. */
  now?: number;
  clusterPrefix?: string;
  /** The opt-in tag. Default dns-cache=enabled. */
  optIn?: { key: string; value: string };
}

export const DEFAULT_MIX: Readonly<Record<FleetKind, number>> = {
  healthy: 84,
  unhealthy: 2,
  starting: 2,
  stopped: 1,
  unknown: 1,
  drift: 4,
  plain: 5,
  pending: 1,
};

export interface Fleet {
  clusterNames: string[];
  tasks: number;
  /** Tasks per kind. */
  kinds: Record<FleetKind, number>;
  /** What a sweep counts: sidecar classes and DRIFT (tasks). */
  expected: {
    HEALTHY: number;
    UNHEALTHY: number;
    STARTING: number;
    STOPPED: number;
    UNKNOWN: number;
    DRIFT: number;
  };
  /** Distinct (cluster, task definition) pairs of drifting tasks: one drift finding each. */
  driftGroups: number;
  /** Distinct task definitions run by tasks without the sidecar: the sweep describes each once. */
  taskDefinitionsWithoutSidecar: number;
  /** Alerts a sweep sends: one per unhealthy or stopped sidecar and per drift group. */
  alerts: number;
}

function definition(family: string, withSidecar: boolean): RegisterTaskDefinitionCommandInput {
  const app = {
    name: "app",
    image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/${family}:1`,
    essential: true,
  };
  const containerDefinitions = withSidecar
    ? [
        { ...app, dependsOn: [{ containerName: "dns-cache-init", condition: "SUCCESS" as const }] },
        {
          name: "dns-cache-init",
          image: "public.ecr.aws/docker/library/busybox:1.37.0-musl",
          essential: false,
        },
        {
          name: "dns-cache",
          image: "public.ecr.aws/eks-distro/coredns/coredns:v1.13.2-eks-1-36-1",
          essential: false,
          healthCheck: {
            command: ["CMD", "/dns-cache/probe"],
            interval: 5,
            timeout: 2,
            retries: 3,
            startPeriod: 10,
          },
        },
      ]
    : [app];
  return {
    family,
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: "256",
    memory: "512",
    containerDefinitions,
  };
}

const SIDECAR_CONTAINERS: Partial<Record<FleetKind, Container>> = {
  healthy: { lastStatus: "RUNNING", healthStatus: "HEALTHY" },
  unhealthy: { lastStatus: "RUNNING", healthStatus: "UNHEALTHY" },
  starting: { lastStatus: "RUNNING", healthStatus: "UNKNOWN" },
  stopped: {
    lastStatus: "STOPPED",
    healthStatus: "UNKNOWN",
    exitCode: 137,
    reason: "OutOfMemoryError: Container killed due to memory usage",
  },
  unknown: { lastStatus: "RUNNING", healthStatus: "UNKNOWN" },
  pending: { lastStatus: "PENDING", healthStatus: "UNKNOWN" },
};

export function seedFleet(state: EcsState, options: FleetOptions): Fleet {
  const families = options.families ?? 10;
  const plainFamilies = options.plainFamilies ?? 5;
  const optIn = options.optIn ?? { key: "dns-cache", value: "enabled" };
  const now = options.now ?? state.now();
  const random = seededRandom(options.seed ?? 1);
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const weights = FLEET_KINDS.map((kind) => Math.max(0, mix[kind] ?? 0));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) throw new Error("seedFleet: the mix has no positive weight");
  const pickKind = (): FleetKind => {
    let r = random() * total;
    for (let i = 0; i < FLEET_KINDS.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return FLEET_KINDS[i] ?? "healthy";
    }
    return "healthy";
  };

  const source: string[] = [];
  const injected: string[] = [];
  const plain: string[] = [];
  for (let f = 0; f < families; f++) {
    const family = `svc-${f}`;
    source.push(
      state.registerTaskDefinition(definition(family, false), [optIn]).taskDefinition.taskDefinitionArn ?? "",
    );
    injected.push(
      state.registerTaskDefinition(definition(family, true), [
        optIn,
        { key: "dns-cache:version", value: "0.1.0" },
        { key: "dns-cache:source-revision", value: "1" },
      ]).taskDefinition.taskDefinitionArn ?? "",
    );
  }
  for (let f = 0; f < plainFamilies; f++) {
    plain.push(
      state.registerTaskDefinition(definition(`plain-${f}`, false)).taskDefinition.taskDefinitionArn ?? "",
    );
  }
  if (families === 0 && plainFamilies === 0) throw new Error("seedFleet: needs at least one family");

  const kinds = Object.fromEntries(FLEET_KINDS.map((k) => [k, 0])) as Record<FleetKind, number>;
  const driftGroups = new Set<string>();
  const withoutSidecar = new Set<string>();
  const clusterNames: string[] = [];
  const prefix = options.clusterPrefix ?? "cluster";
  const longAgo = new Date(now - 3_600_000);
  const justNow = new Date(now - 10_000);
  let tasks = 0;

  for (let c = 0; c < options.clusters; c++) {
    const cluster = `${prefix}-${String(c).padStart(3, "0")}`;
    clusterNames.push(cluster);
    state.addCluster(cluster);
    const n =
      typeof options.tasksPerCluster === "function" ? options.tasksPerCluster(c) : options.tasksPerCluster;
    for (let t = 0; t < n; t++) {
      let kind = pickKind();
      if ((kind === "drift" && source.length === 0) || (kind === "plain" && plain.length === 0))
        kind = "healthy";
      if (kind !== "drift" && kind !== "plain" && injected.length === 0) kind = "plain";
      kinds[kind] += 1;
      tasks += 1;
      const pick = (arns: string[]): string => arns[Math.floor(random() * arns.length)] ?? "";
      if (kind === "drift" || kind === "plain") {
        const taskDefinition = pick(kind === "drift" ? source : plain);
        withoutSidecar.add(taskDefinition);
        if (kind === "drift") driftGroups.add(`${cluster}|${taskDefinition}`);
        state.addTask(cluster, {
          taskDefinition,
          startedAt: longAgo,
          containers: [{ name: "app", lastStatus: "RUNNING", healthStatus: "UNKNOWN" }],
        });
        continue;
      }
      const sidecar = SIDECAR_CONTAINERS[kind] ?? {};
      const pending = kind === "pending";
      state.addTask(cluster, {
        taskDefinition: pick(injected),
        ...(pending ? { lastStatus: "PENDING", desiredStatus: "RUNNING" } : {}),
        startedAt: kind === "starting" ? justNow : longAgo,
        containers: [
          { name: "app", lastStatus: pending ? "PENDING" : "RUNNING", healthStatus: "UNKNOWN" },
          { name: "dns-cache-init", lastStatus: "STOPPED", exitCode: 0 },
          { name: "dns-cache", ...sidecar },
        ],
      });
    }
  }

  return {
    clusterNames,
    tasks,
    kinds,
    expected: {
      HEALTHY: kinds.healthy,
      UNHEALTHY: kinds.unhealthy,
      STARTING: kinds.starting,
      STOPPED: kinds.stopped,
      UNKNOWN: kinds.unknown,
      DRIFT: kinds.drift,
    },
    driftGroups: driftGroups.size,
    taskDefinitionsWithoutSidecar: withoutSidecar.size,
    alerts: kinds.unhealthy + kinds.stopped + driftGroups.size,
  };
}
