import type {
  ContainerDependency,
  HealthCheck,
  LogConfiguration,
  PortMapping,
  Tag,
} from "@aws-sdk/client-ecs";
import { InvalidInputError, REFUSAL_REASONS, type Refusal } from "./errors.ts";
import { renderInitScript } from "./init-script.ts";
import { fargateMemorySizes, parseTaskCpu, parseTaskMemory } from "./memory.ts";
import {
  type InjectOptions,
  mergeOptions,
  OPTION_SPECS,
  type OptionName,
  optionsDigest,
  optionsFromTags,
  type PartialOptions,
  TAG_PREFIX,
} from "./options.ts";
import {
  type Container,
  type NormalizedDefinition,
  normalize,
  type TaskDefinitionInput,
} from "./task-definition.ts";
import { VERSION } from "./version.ts";

export const CACHE_CONTAINER = "dns-cache";
export const INIT_CONTAINER = "dns-cache-init";
export const VOLUME = "dns-cache";
export const VOLUME_PATH = "/dns-cache";
export const COMPONENT_LABEL = "dns-cache.component";

/** Tags the engine writes; never read as options. */
export const MARKER_TAGS = {
  version: `${TAG_PREFIX}version`,
  options: `${TAG_PREFIX}options`,
  sourceRevision: `${TAG_PREFIX}source-revision`,
} as const;
const MARKER_KEYS: ReadonlySet<string> = new Set(Object.values(MARKER_TAGS));

export const MAX_CONTAINERS = 10; // per task definition, a hard ECS quota
export const MAX_TAGS = 50; // per ECS resource
export const MAX_REQUEST_BYTES = 65_536; // RegisterTaskDefinition rejects larger definitions
export const INIT_MEMORY_RESERVATION = 8; // MiB; busybox sh runs for well under a second
export const DNS_PORT = 53;
const WINDOWS_IMAGE =
  /(^|\/)windows\/|servercore|nanoserver|mcr\.microsoft\.com\/(windows|dotnet\/framework)/i;
/** Tried in order when the health port is automatic; chosen away from common app ports (8080, 8181, 9153). */
export const HEALTH_PORT_CANDIDATES = [18053, 18054, 18055, 18056, 18057, 18058, 18059, 18060] as const;

export interface OptionLayers {
  /** The deployment's settings (the Lambda's environment). */
  deployment?: PartialOptions;
  /** Set by the caller and stronger than tags (CLI flags). */
  explicit?: PartialOptions;
}

export type OptionSource = "default" | "deployment" | "tag" | "flag";

export interface Injected {
  outcome: "injected";
  definition: TaskDefinitionInput;
  /** The input already carried exactly this injection. */
  upToDate: boolean;
  /** The input had been injected before (maybe by another version or with other options). */
  wasInjected: boolean;
  options: InjectOptions;
  optionSources: Record<OptionName, OptionSource>;
  healthPort: number | null;
  sourceRevision?: number;
  warnings: string[];
  memory: { task?: number; containers: number; added: number };
}

export interface Refused {
  outcome: "refused";
  refusals: Refusal[];
  wasInjected: boolean;
  warnings: string[];
}

export type InjectResult = Injected | Refused;

function isOurs(container: Container, name: string): boolean {
  return container.name === name && typeof container.dockerLabels?.[COMPONENT_LABEL] === "string";
}

interface Stripped {
  definition: TaskDefinitionInput;
  wasInjected: boolean;
  markerRevision?: number;
  markerVersion?: string;
  markerDigest?: string;
  refusals: Refusal[];
}

/** Removes an earlier injection (ours: our labels, or our names plus our marker tags). */
function strip(input: TaskDefinitionInput): Stripped {
  const definition = structuredClone(input);
  const tags = definition.tags ?? [];
  const marker = (key: string) => tags.find((t) => t.key === key)?.value;
  const markerVersion = marker(MARKER_TAGS.version);
  const markerDigest = marker(MARKER_TAGS.options);
  const markerRevisionText = marker(MARKER_TAGS.sourceRevision);
  const ourNames = [CACHE_CONTAINER, INIT_CONTAINER];
  const taggedAsInjected = markerVersion !== undefined;
  const wasInjected =
    taggedAsInjected || definition.containerDefinitions.some((c) => ourNames.some((n) => isOurs(c, n)));

  const refusals: Refusal[] = [];
  // Stray marker tags (copied by hand, say) would otherwise appear twice in the output.
  if (Array.isArray(definition.tags))
    definition.tags = definition.tags.filter((t) => !MARKER_KEYS.has(t.key ?? ""));
  // Only containers carrying our label are ours: a user's container is never removed, even beside
  // stray marker tags.
  for (const c of definition.containerDefinitions) {
    if (ourNames.includes(c.name) && !isOurs(c, c.name)) {
      refusals.push({
        reason: REFUSAL_REASONS.NAME_CONFLICT,
        message: `a container is already named "${c.name}", a name dns-cache needs for its own container; rename it`,
      });
    }
  }
  if (!wasInjected && (definition.volumes ?? []).some((v) => v.name === VOLUME)) {
    refusals.push({
      reason: REFUSAL_REASONS.NAME_CONFLICT,
      message: `a volume is already named "${VOLUME}", a name dns-cache needs for its own volume; rename it`,
    });
  }
  if (!wasInjected || refusals.length > 0) return { definition, wasInjected, refusals };

  definition.containerDefinitions = definition.containerDefinitions.filter((c) => !ourNames.includes(c.name));
  for (const c of definition.containerDefinitions) {
    if (Array.isArray(c.dependsOn)) {
      c.dependsOn = c.dependsOn.filter((d) => !ourNames.includes(d.containerName ?? ""));
    }
  }
  if (Array.isArray(definition.volumes))
    definition.volumes = definition.volumes.filter((v) => v.name !== VOLUME);
  const markerRevision =
    markerRevisionText !== undefined && /^\d+$/.test(markerRevisionText)
      ? Number(markerRevisionText)
      : undefined;
  const out: Stripped = { definition, wasInjected, refusals };
  if (markerRevision !== undefined) out.markerRevision = markerRevision;
  if (markerVersion !== undefined) out.markerVersion = markerVersion;
  if (markerDigest !== undefined) out.markerDigest = markerDigest;
  return out;
}

function resolveOptions(
  definition: TaskDefinitionInput,
  layers: OptionLayers,
): { options: InjectOptions; sources: Record<OptionName, OptionSource>; errors: string[] } {
  const fromTags = optionsFromTags(definition.tags ?? [], MARKER_KEYS);
  const options = mergeOptions(layers.deployment ?? {}, fromTags.options, layers.explicit ?? {});
  const sources = {} as Record<OptionName, OptionSource>;
  for (const s of OPTION_SPECS) {
    sources[s.name] =
      layers.explicit?.[s.key] !== undefined
        ? "flag"
        : fromTags.options[s.key] !== undefined
          ? "tag"
          : layers.deployment?.[s.key] !== undefined
            ? "deployment"
            : "default";
  }
  const errors = [...fromTags.errors];
  if (options.memoryLimit <= options.memoryReservation) {
    errors.push(
      `memory-limit (${options.memoryLimit} MiB) must be above memory (${options.memoryReservation} MiB)`,
    );
  }
  if (options.metricsPort !== null && options.metricsPort === options.healthPort) {
    errors.push(`metrics-port and health-port are both ${options.metricsPort}`);
  }
  return { options, sources, errors };
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

function firstEssentialAwslogs(containers: readonly Container[]): LogConfiguration | undefined {
  // Only awslogs is copied: other drivers may need secrets or a log router we must not depend on.
  const source = containers.find((c) => c.essential !== false && c.logConfiguration?.logDriver === "awslogs");
  const config = source?.logConfiguration;
  if (!config) return undefined;
  return { logDriver: "awslogs", options: { ...config.options } };
}

function buildContainers(
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

export interface InjectContext extends OptionLayers {
  /** Overrides the source revision read from the input (the injector knows it from the event). */
  sourceRevision?: number;
}

/** Pure: the same input and options always give the same output, byte for byte. */
export function inject(value: unknown, context: InjectContext = {}): InjectResult {
  const normalized: NormalizedDefinition = normalize(value);
  return injectNormalized(normalized, context);
}

export function injectNormalized(
  normalized: NormalizedDefinition,
  context: InjectContext = {},
): InjectResult {
  const warnings = normalized.droppedTags.map(
    (key) => `tag ${key} dropped: keys beginning with "aws:" are reserved and cannot be set in a request`,
  );
  const stripped = strip(normalized.definition);
  const { definition, wasInjected } = stripped;
  const refusals: Refusal[] = [...stripped.refusals];
  const refuse = (reason: Refusal["reason"], message: string) => refusals.push({ reason, message });

  const { options, sources, errors } = resolveOptions(definition, context);
  for (const e of errors) refuse(REFUSAL_REASONS.INVALID_OPTION, e);

  const compat = definition.requiresCompatibilities ?? [];
  const networkMode = definition.networkMode ?? (compat.includes("FARGATE") ? undefined : "bridge");
  if (networkMode !== "awsvpc") {
    refuse(
      REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
      definition.networkMode === undefined && compat.includes("FARGATE")
        ? "network mode is not set; Fargate requires awsvpc"
        : definition.networkMode === undefined
          ? "network mode is bridge (the default when networkMode is absent); the cache needs awsvpc, where all containers share one network namespace and resolv.conf"
          : `network mode is ${definition.networkMode}; the cache needs awsvpc, where all containers share one network namespace and resolv.conf`,
    );
  }
  const os = definition.runtimePlatform?.operatingSystemFamily;
  if (typeof os === "string" && os.toUpperCase().startsWith("WINDOWS")) {
    refuse(
      REFUSAL_REASONS.WINDOWS_PLATFORM,
      `runtime platform is ${os}; the cache sidecar runs on Linux only`,
    );
  }
  const userContainers = definition.containerDefinitions;
  const windowsImage = userContainers.find((c) => WINDOWS_IMAGE.test(c.image ?? ""));
  if (windowsImage && !definition.runtimePlatform?.operatingSystemFamily) {
    // runtimePlatform is optional on EC2: Windows images give such a definition away.
    refuse(
      REFUSAL_REASONS.WINDOWS_PLATFORM,
      `container "${windowsImage.name}" runs a Windows image; the cache sidecar runs on Linux only`,
    );
  }
  if (userContainers.length + 2 > MAX_CONTAINERS) {
    refuse(
      REFUSAL_REASONS.TOO_MANY_CONTAINERS,
      `the definition has ${userContainers.length} containers; adding dns-cache's 2 would pass ECS's limit of ${MAX_CONTAINERS}`,
    );
  }

  const ports = declaredPorts(userContainers);
  const dnsUser = portUser(ports, DNS_PORT);
  if (dnsUser)
    refuse(
      REFUSAL_REASONS.PORT_CONFLICT,
      `container "${dnsUser}" declares port ${DNS_PORT}, which the cache must listen on`,
    );
  let healthPort: number | null = null;
  if (options.healthCheck || options.healthPort !== "auto") {
    if (options.healthPort === "auto") {
      const candidates = HEALTH_PORT_CANDIDATES.filter((p) => p !== options.metricsPort);
      healthPort = candidates.find((p) => portUser(ports, p) === undefined) ?? null;
      if (healthPort === null) {
        refuse(
          REFUSAL_REASONS.PORT_CONFLICT,
          `every health port dns-cache tries (${candidates.join(", ")}) is declared by a container; set health-port`,
        );
      }
    } else {
      const user = portUser(ports, options.healthPort);
      if (user)
        refuse(
          REFUSAL_REASONS.PORT_CONFLICT,
          `container "${user}" declares port ${options.healthPort}, set as the health port`,
        );
      healthPort = options.healthPort;
    }
  }
  if (options.metricsPort !== null) {
    const user = portUser(ports, options.metricsPort);
    if (user)
      refuse(
        REFUSAL_REASONS.PORT_CONFLICT,
        `container "${user}" declares port ${options.metricsPort}, set as the metrics port`,
      );
  }

  const taskMemory = parseTaskMemory(definition.memory);
  if (Number.isNaN(taskMemory))
    throw new InvalidInputError(`task memory "${String(definition.memory)}" is not a size ECS accepts`);
  const cpu = parseTaskCpu(definition.cpu);
  const containersMemory = userContainers.reduce((sum, c) => sum + reservedMemory(c), 0);
  const added = INIT_MEMORY_RESERVATION + options.memoryReservation;
  if (taskMemory !== undefined && containersMemory + added > taskMemory) {
    const free = Math.max(0, taskMemory - containersMemory);
    refuse(
      REFUSAL_REASONS.INSUFFICIENT_MEMORY,
      `the task has ${taskMemory} MiB and its containers reserve ${containersMemory} MiB; dns-cache needs ${added} MiB (${free} MiB free): lower a container's memoryReservation by ${added - free} MiB${memoryAdvice(added, taskMemory, cpu)}`,
    );
  }

  const userTags = definition.tags ?? [];
  const sourceRevision = context.sourceRevision ?? stripped.markerRevision ?? normalized.sourceRevision;
  const markerCount = sourceRevision === undefined ? 2 : 3;
  if (userTags.length + markerCount > MAX_TAGS) {
    refuse(
      REFUSAL_REASONS.TOO_MANY_TAGS,
      `the definition has ${userTags.length} tags; dns-cache's ${markerCount} marker tags would pass ECS's limit of ${MAX_TAGS}`,
    );
  }

  if (refusals.length > 0) return { outcome: "refused", refusals, wasInjected, warnings };

  const ours = buildContainers(options, healthPort, firstEssentialAwslogs(userContainers), taskMemory);
  const appCondition: ContainerDependency["condition"] = options.healthCheck ? "HEALTHY" : "START";
  for (const c of userContainers) {
    const deps: ContainerDependency[] = Array.isArray(c.dependsOn) ? c.dependsOn : [];
    deps.push(
      { containerName: INIT_CONTAINER, condition: "SUCCESS" },
      { containerName: CACHE_CONTAINER, condition: appCondition },
    );
    c.dependsOn = deps;
  }
  definition.containerDefinitions = [...userContainers, ...ours];
  definition.volumes = [...(definition.volumes ?? []), { name: VOLUME }];

  const digest = optionsDigest(options);
  const markers: Tag[] = [
    { key: MARKER_TAGS.version, value: VERSION },
    { key: MARKER_TAGS.options, value: digest },
    ...(sourceRevision === undefined
      ? []
      : [{ key: MARKER_TAGS.sourceRevision, value: String(sourceRevision) }]),
  ];
  // Tags last, as normalize() leaves them, so that re-injecting the output gives the same bytes.
  delete definition.tags;
  definition.tags = [...userTags, ...markers];

  const size = Buffer.byteLength(JSON.stringify(definition));
  if (size > MAX_REQUEST_BYTES) {
    const before = Buffer.byteLength(JSON.stringify(normalized.definition));
    return {
      outcome: "refused",
      wasInjected,
      warnings,
      refusals: [
        {
          reason: REFUSAL_REASONS.DEFINITION_TOO_LARGE,
          message: `with the cache the definition would be ${size} bytes, over ECS's limit of ${MAX_REQUEST_BYTES} (it is ${before} bytes without it)`,
        },
      ],
    };
  }

  const result: Injected = {
    outcome: "injected",
    definition,
    upToDate: wasInjected && stripped.markerVersion === VERSION && stripped.markerDigest === digest,
    wasInjected,
    options,
    optionSources: sources,
    healthPort,
    warnings,
    memory: {
      containers: containersMemory,
      added,
      ...(taskMemory === undefined ? {} : { task: taskMemory }),
    },
  };
  if (sourceRevision !== undefined) result.sourceRevision = sourceRevision;
  return result;
}

/** The JSON the CLI prints: stable, two-space indented, newline-terminated. */
export function serialize(definition: TaskDefinitionInput): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}
