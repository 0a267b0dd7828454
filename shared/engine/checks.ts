/**
 * The refusal rules: each check reads the (stripped) definition and the options and returns the reasons it
 * cannot be injected, with a sentence that says what to change. All of them run, so every reason is reported.
 */
import type { PortMapping } from "@aws-sdk/client-ecs";
import { HEALTH_PORT_CANDIDATES, INIT_MEMORY_RESERVATION, MAX_CONTAINERS, MAX_TAGS } from "./constants.ts";
import { DNS_PORT } from "./corefile.ts";
import { InvalidInputError, REFUSAL_REASONS, type Refusal } from "./errors.ts";
import { fargateMemorySizes, parseTaskCpu, parseTaskMemory } from "./memory.ts";
import type { InjectOptions } from "./options.ts";
import type { Container, TaskDefinitionInput } from "./task-definition.ts";

const WINDOWS_IMAGE =
  /(^|\/)windows\/|servercore|nanoserver|mcr\.microsoft\.com\/(windows|dotnet\/framework)/i;

const refusal = (reason: Refusal["reason"], message: string): Refusal => ({ reason, message });

/** awsvpc only, Linux only, and room for two more containers. */
export function checkPlatform(definition: TaskDefinitionInput): Refusal[] {
  const refusals: Refusal[] = [];
  const compat = definition.requiresCompatibilities ?? [];
  const networkMode = definition.networkMode ?? (compat.includes("FARGATE") ? undefined : "bridge");
  if (networkMode !== "awsvpc") {
    refusals.push(refusal(REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC, networkModeMessage(definition)));
  }
  const os = definition.runtimePlatform?.operatingSystemFamily;
  if (typeof os === "string" && os.toUpperCase().startsWith("WINDOWS")) {
    refusals.push(
      refusal(
        REFUSAL_REASONS.WINDOWS_PLATFORM,
        `runtime platform is ${os}; the cache sidecar runs on Linux only`,
      ),
    );
  }
  const containers = definition.containerDefinitions;
  const windowsImage = containers.find((c) => WINDOWS_IMAGE.test(c.image ?? ""));
  if (windowsImage && !definition.runtimePlatform?.operatingSystemFamily) {
    // runtimePlatform is optional on EC2: Windows images give such a definition away.
    refusals.push(
      refusal(
        REFUSAL_REASONS.WINDOWS_PLATFORM,
        `container "${windowsImage.name}" runs a Windows image; the cache sidecar runs on Linux only`,
      ),
    );
  }
  if (containers.length + 2 > MAX_CONTAINERS) {
    refusals.push(
      refusal(
        REFUSAL_REASONS.TOO_MANY_CONTAINERS,
        `the definition has ${containers.length} containers; adding dns-cache's 2 would pass ECS's limit of ${MAX_CONTAINERS}`,
      ),
    );
  }
  return refusals;
}

/** Why a mode other than awsvpc is refused on this path (bridge has its own, see bridge.ts). */
function networkModeMessage(definition: TaskDefinitionInput): string {
  switch (definition.networkMode) {
    case undefined:
      return "network mode is not set; Fargate requires awsvpc";
    case "host":
      return "network mode is host: the containers share the instance's network stack and its /etc/resolv.conf, so their cache is the instance's resolver configuration (point it at the node cache, infra/node-cache.yaml), not the task definition";
    case "none":
      return "network mode is none: the task has no network, so there are no lookups to cache";
    default:
      return `network mode is ${definition.networkMode}; dns-cache handles awsvpc (a sidecar) and bridge (the node cache)`;
  }
}

interface PortRange {
  from: number;
  to: number;
  container: string;
}

function declaredPorts(containers: readonly Container[]): PortRange[] {
  const out: PortRange[] = [];
  for (const c of containers) {
    for (const p of (c.portMappings ?? []) as PortMapping[]) {
      for (const port of [p.containerPort, p.hostPort]) {
        if (typeof port === "number") out.push({ from: port, to: port, container: c.name });
      }
      const range = /^(\d+)-(\d+)$/.exec(p.containerPortRange ?? "");
      if (range) out.push({ from: Number(range[1]), to: Number(range[2]), container: c.name });
    }
  }
  return out;
}

function portUser(ports: readonly PortRange[], port: number): string | undefined {
  return ports.find((p) => port >= p.from && port <= p.to)?.container;
}

/** Port 53 and the cache's own ports must be free in the task's one network namespace. */
export function checkPorts(
  containers: readonly Container[],
  options: InjectOptions,
): { healthPort: number | null; refusals: Refusal[] } {
  const refusals: Refusal[] = [];
  const ports = declaredPorts(containers);
  const dnsUser = portUser(ports, DNS_PORT);
  if (dnsUser)
    refusals.push(
      refusal(
        REFUSAL_REASONS.PORT_CONFLICT,
        `container "${dnsUser}" declares port ${DNS_PORT}, which the cache must listen on`,
      ),
    );
  let healthPort: number | null = null;
  if (options.healthCheck || options.healthPort !== "auto") {
    if (options.healthPort === "auto") {
      const candidates = HEALTH_PORT_CANDIDATES.filter((p) => p !== options.metricsPort);
      healthPort = candidates.find((p) => portUser(ports, p) === undefined) ?? null;
      if (healthPort === null) {
        refusals.push(
          refusal(
            REFUSAL_REASONS.PORT_CONFLICT,
            `every health port dns-cache tries (${candidates.join(", ")}) is declared by a container; set health-port`,
          ),
        );
      }
    } else {
      const user = portUser(ports, options.healthPort);
      if (user)
        refusals.push(
          refusal(
            REFUSAL_REASONS.PORT_CONFLICT,
            `container "${user}" declares port ${options.healthPort}, set as the health port`,
          ),
        );
      healthPort = options.healthPort;
    }
  }
  if (options.metricsPort !== null) {
    const user = portUser(ports, options.metricsPort);
    if (user)
      refusals.push(
        refusal(
          REFUSAL_REASONS.PORT_CONFLICT,
          `container "${user}" declares port ${options.metricsPort}, set as the metrics port`,
        ),
      );
  }
  return { healthPort, refusals };
}

export interface MemoryAccount {
  /** Task-level memory in MiB, when the task fixes it. */
  task?: number;
  /** What the user's containers reserve. */
  containers: number;
  /** What the sidecars reserve. */
  added: number;
}

function reservedMemory(c: Container): number {
  return c.memoryReservation ?? c.memory ?? 0;
}

function memoryAdvice(needed: number, taskMemory: number, cpu: number | undefined): string {
  const sizes = cpu === undefined ? [] : fargateMemorySizes(cpu);
  const next = sizes.find((m) => m >= taskMemory + needed);
  return next !== undefined
    ? ` or raise the task memory to ${next} MiB (the next Fargate size for cpu ${cpu})`
    : " or raise the task memory";
}

/** The sidecars' reservations must fit in a fixed task memory. */
export function checkMemory(
  definition: TaskDefinitionInput,
  options: InjectOptions,
): { memory: MemoryAccount; refusals: Refusal[] } {
  const taskMemory = parseTaskMemory(definition.memory);
  if (Number.isNaN(taskMemory))
    throw new InvalidInputError(`task memory "${String(definition.memory)}" is not a size ECS accepts`);
  const cpu = parseTaskCpu(definition.cpu);
  const containersMemory = definition.containerDefinitions.reduce((sum, c) => sum + reservedMemory(c), 0);
  const added = INIT_MEMORY_RESERVATION + options.memoryReservation;
  const memory: MemoryAccount = {
    containers: containersMemory,
    added,
    ...(taskMemory === undefined ? {} : { task: taskMemory }),
  };
  if (taskMemory === undefined || containersMemory + added <= taskMemory) return { memory, refusals: [] };
  const free = Math.max(0, taskMemory - containersMemory);
  return {
    memory,
    refusals: [
      refusal(
        REFUSAL_REASONS.INSUFFICIENT_MEMORY,
        `the task has ${taskMemory} MiB and its containers reserve ${containersMemory} MiB; dns-cache needs ${added} MiB (${free} MiB free): lower a container's memoryReservation by ${added - free} MiB${memoryAdvice(added, taskMemory, cpu)}`,
      ),
    ],
  };
}

/** The marker tags must fit under ECS's 50 tags per resource. */
export function checkTags(userTagCount: number, markerCount: number): Refusal[] {
  if (userTagCount + markerCount <= MAX_TAGS) return [];
  return [
    refusal(
      REFUSAL_REASONS.TOO_MANY_TAGS,
      `the definition has ${userTagCount} tags; dns-cache's ${markerCount} marker tags would pass ECS's limit of ${MAX_TAGS}`,
    ),
  ];
}
