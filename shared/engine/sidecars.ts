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
  const script = renderInitScript({
    ...options,
    healthPort,
    installProbe: healthPort !== null && options.healthCheck,
  });
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
  const healthCheck: HealthCheck | undefined =
    options.healthCheck && healthPort !== null
      ? {
          // The CoreDNS image is distroless: the probe is the static busybox the init container copied.
          command: [
            "CMD",
            `${VOLUME_PATH}/busybox`,
            "wget",
            "-q",
            "-O",
            "/dev/null",
            `http://127.0.0.1:${healthPort}/health`,
          ],
          interval: 5,
          timeout: 2,
          retries: 3,
          startPeriod: 10,
        }
      : undefined;
  const cache: Container = {
    name: CACHE_CONTAINER,
    image: options.corednsImage,
    essential: false,
    // Explicit, so any CoreDNS build (upstream, EKS Distro) starts the same way.
    entryPoint: ["/coredns"],
    command: ["-conf", `${VOLUME_PATH}/Corefile`],
    memoryReservation: options.memoryReservation,
    memory: taskMemory === undefined ? options.memoryLimit : Math.min(options.memoryLimit, taskMemory),
    readonlyRootFilesystem: true,
    mountPoints: mount(true),
    dependsOn: [{ containerName: INIT_CONTAINER, condition: "SUCCESS" }],
    // Non-essential and restarted in place: while it is down, apps fall back to the next nameserver.
    restartPolicy: { enabled: true, restartAttemptPeriod: 60 },
    ...(healthCheck ? { healthCheck } : {}),
    dockerLabels: { [COMPONENT_LABEL]: "cache", "dns-cache.version": VERSION },
    ...logs,
  };
  return [init, cache];
}

/** Every user container waits for the init script to succeed and for the cache (HEALTHY or START). */
export function waitForCache(userContainers: readonly Container[], options: InjectOptions): void {
  const appCondition: ContainerDependency["condition"] = options.healthCheck ? "HEALTHY" : "START";
  for (const c of userContainers) {
    const deps: ContainerDependency[] = Array.isArray(c.dependsOn) ? c.dependsOn : [];
    deps.push(
      { containerName: INIT_CONTAINER, condition: "SUCCESS" },
      { containerName: CACHE_CONTAINER, condition: appCondition },
    );
    c.dependsOn = deps;
  }
}
