/** The containers and volume dns-cache adds, and how the user's containers wait for them. */
import type { ContainerDependency, HealthCheck, LogConfiguration } from "@aws-sdk/client-ecs";
import {
  CACHE_CONTAINER,
  COMPONENT_LABEL,
  INIT_CONTAINER,
  INIT_MEMORY_RESERVATION,
  VOLUME,
  VOLUME_PATH,
} from "./constants.ts";
import { renderInitScript } from "./init-script.ts";
import type { InjectOptions } from "./options.ts";
import { PROBE_FAILURES, PROBE_INTERVAL, PROBE_TIMEOUT, probeArgs } from "./supervisor.ts";
import type { Container } from "./task-definition.ts";
import { VERSION } from "./version.ts";

export function firstEssentialAwslogs(containers: readonly Container[]): LogConfiguration | undefined {
  // Only awslogs is copied: other drivers may need secrets or a log router we must not depend on.
  const source = containers.find((c) => c.essential !== false && c.logConfiguration?.logDriver === "awslogs");
  const config = source?.logConfiguration;
  if (!config) return undefined;
  return { logDriver: "awslogs", options: { ...config.options } };
}

/** The init container and the cache container, wired to the volume they share. */
export function buildContainers(
  options: InjectOptions,
  healthPort: number | null,
  logConfiguration: LogConfiguration | undefined,
  taskMemory: number | undefined,
): Container[] {
  const mount = (readOnly: boolean) => [{ sourceVolume: VOLUME, containerPath: VOLUME_PATH, readOnly }];
  const logs = logConfiguration ? { logConfiguration } : {};
  const script = renderInitScript({ ...options, healthPort });
  const init: Container = {
    name: INIT_CONTAINER,
    image: options.initImage,
    essential: false,
    // Root, to rewrite the task's shared /etc/resolv.conf.
    user: "0",
    entryPoint: ["sh", "-c"],
    command: [script],
    memoryReservation: INIT_MEMORY_RESERVATION,
    mountPoints: mount(false),
    dockerLabels: { [COMPONENT_LABEL]: "init", "dns-cache.version": VERSION },
    ...logs,
  };
  const healthCheck: HealthCheck | undefined = options.healthCheck
    ? {
        // A real DNS question the Corefile answers itself: unhealthy when the cache does not answer DNS
        // (within about 3 intervals), never because the upstream is down. The CoreDNS image is
        // distroless: the probe is the static busybox the init container copied into the volume.
        command: ["CMD", `${VOLUME_PATH}/busybox`, ...probeArgs()],
        interval: PROBE_INTERVAL,
        // Above the probe's own 2 s, so its verdict, not Docker's timeout, decides.
        timeout: PROBE_TIMEOUT + 1,
        retries: PROBE_FAILURES,
        startPeriod: 10,
      }
    : undefined;
  const cache: Container = {
    name: CACHE_CONTAINER,
    image: options.corednsImage,
    essential: false,
    // The supervisor (busybox sh, from the volume) runs /coredns -conf /dns-cache/Corefile and restarts
    // it in place when it stops answering DNS: ECS restarts only containers that exit.
    entryPoint: [`${VOLUME_PATH}/busybox`, "sh", `${VOLUME_PATH}/supervise`],
    memoryReservation: options.memoryReservation,
    memory: taskMemory === undefined ? options.memoryLimit : Math.min(options.memoryLimit, taskMemory),
    readonlyRootFilesystem: true,
    mountPoints: mount(true),
    dependsOn: [{ containerName: INIT_CONTAINER, condition: "SUCCESS" }],
    // Non-essential and restarted in place should the supervisor itself exit: while it is down, apps fall
    // back to the next nameserver.
    restartPolicy: { enabled: true, restartAttemptPeriod: 60 },
    ...(healthCheck ? { healthCheck } : {}),
    dockerLabels: { [COMPONENT_LABEL]: "cache", "dns-cache.version": VERSION },
    ...logs,
  };
  return [init, cache];
}

/**
 * Every user container waits for the init script to succeed and for the cache to START: nothing the cache
 * does (a bad image, a Corefile it cannot load, a crash loop) can hold the app for longer than the init
 * script takes. HEALTHY only when asked for (wait-for healthy): it adds a health-check interval (5 s) to
 * every task start, and a cache that never turns healthy then keeps the app from starting.
 */
export function waitForCache(userContainers: readonly Container[], options: InjectOptions): void {
  const appCondition: ContainerDependency["condition"] =
    options.waitFor === "healthy" && options.healthCheck ? "HEALTHY" : "START";
  for (const c of userContainers) {
    const deps: ContainerDependency[] = Array.isArray(c.dependsOn) ? c.dependsOn : [];
    deps.push(
      { containerName: INIT_CONTAINER, condition: "SUCCESS" },
      { containerName: CACHE_CONTAINER, condition: appCondition },
    );
    c.dependsOn = deps;
  }
}

/**
 * Where ECR Public images are pulled from instead: a pull-through cache rule in the task's own private
 * registry (ECR Public has no VPC endpoint; private ECR has). `registry` is `<account>.dkr.ecr.<region>.
 * amazonaws.com`, `prefix` the rule's repository prefix.
 */
export interface ImageMirror {
  registry: string;
  prefix: string;
}

export const ECR_PUBLIC = "public.ecr.aws/";

/** `public.ecr.aws/<repo>[:tag|@digest]` → `<registry>/<prefix>/<repo>[:tag|@digest]`; others unchanged. */
export function throughMirror(image: string, mirror: ImageMirror | undefined): string {
  if (!mirror || !image.startsWith(ECR_PUBLIC)) return image;
  return `${mirror.registry}/${mirror.prefix}/${image.slice(ECR_PUBLIC.length)}`;
}

/** The private ECR registry of an account and region (pull-through cache rules live there). */
export function ecrRegistry(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}
