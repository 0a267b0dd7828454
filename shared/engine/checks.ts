/**
 * The refusal rules: each check reads the (stripped) definition and the options and returns the reasons it
 * cannot be injected, with a sentence that says what to change. All of them run, so every reason is reported.
 */
import type { PortMapping } from "@aws-sdk/client-ecs";
import { HEALTH_PORT_CANDIDATES, INIT_MEMORY_RESERVATION, MAX_CONTAINERS, MAX_TAGS } from "./constants.ts";
import { DNS_PORT } from "./corefile.ts";
import { REFUSAL_REASONS, type Refusal } from "./errors.ts";
import { fargateMemorySizes, parseTaskCpu, parseTaskMemory } from "./memory.ts";
import type { InjectOptions } from "./options.ts";
import type { Container, TaskDefinitionInput } from "./task-definition.ts";

const WINDOWS_IMAGE =
  /(^|\/)windows\/|servercore|nanoserver|mcr\.microsoft\.com\/(windows|dotnet\/framework)/i;
// Docker Hub's legacy microsoft/* images (microsoft/iis, microsoft/aspnet…) are Windows-only, except these.
const LEGACY_MICROSOFT =
  /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?microsoft\/([^:@/]+)/i;
const LEGACY_MICROSOFT_LINUX = /linux|^dotnet$|^aspnetcore|^azure-|^powershell$/i;
// Programs that exist only on Windows, as an entry point or command: PowerShell 5, cmd, any C:\ path.
const WINDOWS_PROGRAM = /^(?:powershell|powershell\.exe|pwsh\.exe|cmd|cmd\.exe)$/i;
const WINDOWS_PATH = /^[a-z]:[\\/]/i;

const refusal = (reason: Refusal["reason"], message: string): Refusal => ({ reason, message });

/** awsvpc only, Linux only, and room for two more containers. */
export function checkPlatform(definition: TaskDefinitionInput): Refusal[] {
  const refusals: Refusal[] = [];
  // Absent is bridge on EC2 and an error on Fargate: refused either way.
  if (definition.networkMode !== "awsvpc") {
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
  // runtimePlatform is optional on EC2: Windows images, programs and paths give such a definition away.
  const sign = definition.runtimePlatform?.operatingSystemFamily ? undefined : windowsSign(definition);
  if (sign) {
    refusals.push(refusal(REFUSAL_REASONS.WINDOWS_PLATFORM, `${sign}; the cache sidecar runs on Linux only`));
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

function windowsSign(definition: TaskDefinitionInput): string | undefined {
  for (const c of definition.containerDefinitions) {
    const image = c.image ?? "";
    const legacy = LEGACY_MICROSOFT.exec(image)?.[1];
    if (WINDOWS_IMAGE.test(image) || (legacy !== undefined && !LEGACY_MICROSOFT_LINUX.test(legacy)))
      return `container "${c.name}" runs a Windows image (${image})`;
    const program = (c.entryPoint ?? c.command ?? [])[0] ?? "";
    const name = program.split(/[\\/]/).at(-1) ?? "";
    if (WINDOWS_PROGRAM.test(name) || WINDOWS_PATH.test(program))
      return `container "${c.name}" starts ${program}, a Windows program`;
    const path = [c.workingDirectory, ...(c.mountPoints ?? []).map((m) => m.containerPath)].find((p) =>
      WINDOWS_PATH.test(p ?? ""),
    );
    if (path !== undefined) return `container "${c.name}" uses the Windows path ${path}`;
  }
  const fsx = (definition.volumes ?? []).find((v) => v.fsxWindowsFileServerVolumeConfiguration);
  return fsx
    ? `volume "${fsx.name}" is an FSx for Windows File Server volume (Windows containers only)`
    : undefined;
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

/** An explicitly set port of the cache that a container declares already. */
function portTaken(ports: readonly PortRange[], port: number, role: "health" | "metrics"): Refusal[] {
  const user = portUser(ports, port);
  return user
    ? [
        refusal(
          REFUSAL_REASONS.PORT_CONFLICT,
          `container "${user}" declares port ${port}, set as the ${role} port`,
        ),
      ]
    : [];
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
      refusals.push(...portTaken(ports, options.healthPort, "health"));
      healthPort = options.healthPort;
    }
  }
  if (options.metricsPort !== null) refusals.push(...portTaken(ports, options.metricsPort, "metrics"));
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

/** Docker's smallest container memory: advice never goes below it. */
const MIN_CONTAINER_MEMORY = 6;
const FARGATE_CPUS = [256, 512, 1024, 2048, 4096, 8192, 16384];

/** What to change so that the sidecars fit; each part alone is enough. */
export interface MemoryAdvice {
  /** Lower one container's reservation: the field it actually sets, to a value that then fits. */
  lower?: {
    index: number;
    container: string;
    field: "memory" | "memoryReservation";
    from: number;
    to: number;
  };
  /** Raise the task memory (and, on Fargate, the cpu when its sizes stop below). */
  raise?: { memory: number; cpu?: number };
}

export function memoryAdvice(
  definition: TaskDefinitionInput,
  taskMemory: number,
  added: number,
): MemoryAdvice {
  const containers = definition.containerDefinitions;
  const reserved = containers.reduce((sum, c) => sum + reservedMemory(c), 0);
  const deficit = reserved + added - taskMemory;
  const advice: MemoryAdvice = {};
  const over = containers.filter((c) => (c.memory ?? 0) > taskMemory);
  const largestIndex = containers.reduce(
    (best, c, i) => (reservedMemory(c) > reservedMemory(containers[best] as Container) ? i : best),
    0,
  );
  const largest = containers[largestIndex] as Container;
  const field = largest.memoryReservation !== undefined ? "memoryReservation" : "memory";
  const from = reservedMemory(largest);
  // One change must fix everything: the reservations' sum and any hard limit above the task's memory.
  const fixesOver = over.length === 0 || (over.length === 1 && over[0] === largest && field === "memory");
  if (deficit > 0 && fixesOver && from - deficit >= MIN_CONTAINER_MEMORY) {
    advice.lower = { index: largestIndex, container: largest.name, field, from, to: from - deficit };
  } else if (deficit <= 0 && over.length === 1 && over[0]) {
    // The sum fits, so that container sets a reservation: only its hard limit must come down.
    const c = over[0];
    advice.lower = {
      index: containers.indexOf(c),
      container: c.name,
      field: "memory",
      from: c.memory ?? 0,
      to: taskMemory,
    };
  }
  // ECS also refuses a container whose hard limit is above the task's memory.
  const needed = Math.max(reserved + added, ...containers.map((c) => c.memory ?? 0));
  const raise = raisedSize(definition, needed);
  if (raise) advice.raise = raise;
  return advice;
}

function raisedSize(definition: TaskDefinitionInput, needed: number): MemoryAdvice["raise"] {
  if (!(definition.requiresCompatibilities ?? []).includes("FARGATE")) return { memory: needed };
  const cpu = parseTaskCpu(definition.cpu);
  for (const c of FARGATE_CPUS.filter((size) => cpu === undefined || size >= cpu)) {
    const memory = fargateMemorySizes(c).find((m) => m >= needed);
    if (memory !== undefined) return c === cpu ? { memory } : { memory, cpu: c };
  }
  return undefined;
}

function adviceText(advice: MemoryAdvice): string {
  const parts: string[] = [];
  if (advice.lower) {
    const { container, field, from, to } = advice.lower;
    parts.push(`lower container "${container}"'s ${field} from ${from} to ${to} MiB`);
  }
  if (advice.raise) {
    const { memory, cpu } = advice.raise;
    parts.push(
      cpu === undefined
        ? `raise the task memory to ${memory} MiB`
        : `raise the task cpu to ${cpu} and memory to ${memory} MiB (a Fargate size)`,
    );
  }
  return parts.length > 0 ? `: ${parts.join(", or ")}` : "";
}

/** The sidecars' reservations must fit in a fixed task memory, and no hard limit may pass it. */
export function checkMemory(
  definition: TaskDefinitionInput,
  options: InjectOptions,
): { memory: MemoryAccount; refusals: Refusal[] } {
  // validate.ts has refused a size parseTaskMemory cannot read.
  const taskMemory = parseTaskMemory(definition.memory);
  const containersMemory = definition.containerDefinitions.reduce((sum, c) => sum + reservedMemory(c), 0);
  const added = INIT_MEMORY_RESERVATION + options.memoryReservation;
  const memory: MemoryAccount = {
    containers: containersMemory,
    added,
    ...(taskMemory === undefined ? {} : { task: taskMemory }),
  };
  if (taskMemory === undefined) return { memory, refusals: [] };
  const overLimit = definition.containerDefinitions.find((c) => (c.memory ?? 0) > taskMemory);
  if (containersMemory + added <= taskMemory && overLimit === undefined) return { memory, refusals: [] };
  const free = Math.max(0, taskMemory - containersMemory);
  const situation =
    containersMemory + added > taskMemory
      ? `the task has ${taskMemory} MiB and its containers reserve ${containersMemory} MiB; dns-cache needs ${added} MiB (${free} MiB free)`
      : `container "${overLimit?.name}" has a memory limit of ${overLimit?.memory} MiB, above the task's ${taskMemory} MiB, which ECS refuses`;
  return {
    memory,
    refusals: [
      refusal(
        REFUSAL_REASONS.INSUFFICIENT_MEMORY,
        `${situation}${adviceText(memoryAdvice(definition, taskMemory, added))}`,
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

const PUBLIC_ECR = "public.ecr.aws/";
// Private ECR (reachable through VPC endpoints) and the Fargate-internal pause/agent images say nothing
// about internet access; an image from any other registry (Docker Hub by default) is pulled through it.
const PRIVATE_ECR = /^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//;

function pullsFromInternet(image: string): boolean {
  return !PRIVATE_ECR.test(image);
}

/** 1.4.0 and later, LATEST, or absent (ECS then uses LATEST) carry the container restart policy. */
function olderThan140(platformVersion: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(platformVersion.trim());
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < 1 || (major === 1 && minor < 4);
}

/**
 * What the task needs that dns-cache cannot see or check: warnings, never refusals (the definition is
 * valid; the place it runs decides).
 */
export function prerequisiteWarnings(definition: TaskDefinitionInput, options: InjectOptions): string[] {
  const warnings: string[] = [];
  const ours = [options.corednsImage, options.initImage].filter((i) => i.startsWith(PUBLIC_ECR));
  const theirs = definition.containerDefinitions.map((c) => c.image ?? "");
  if (ours.length > 0 && !theirs.some(pullsFromInternet)) {
    warnings.push(
      `${ours.join(" and ")} ${ours.length > 1 ? "are" : "is"} on Amazon ECR Public, which has no VPC endpoint, and nothing in this definition shows internet access (all its images are in private ECR). dns-cache cannot see the task's subnets: if they have no NAT gateway or public IP, the task will not start because it cannot pull ${ours.length > 1 ? "them" : "it"}. Deploy with the ECR pull-through cache (EcrPullThroughCache=on) or set coredns-image and init-image to a private mirror`,
    );
  }
  const compat = definition.requiresCompatibilities ?? [];
  const platformVersion = (definition as { platformVersion?: unknown }).platformVersion;
  if (typeof platformVersion === "string" && olderThan140(platformVersion)) {
    warnings.push(
      `platformVersion ${platformVersion}: the cache's container restart policy and the shared, writable /etc/resolv.conf need Fargate platform 1.4.0 or later`,
    );
  }
  if (compat.includes("EC2") || compat.includes("EXTERNAL") || compat.length === 0) {
    warnings.push(
      "on EC2 (and ECS Anywhere) container instances need ECS agent 1.86.0 or later for the cache's container restart policy",
    );
  }
  return warnings;
}
