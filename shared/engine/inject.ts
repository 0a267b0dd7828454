/** The init strategy: a pure transform of a task definition, the same input always giving the same bytes. */
import type { Tag } from "@aws-sdk/client-ecs";
import {
  type BridgeContainerPlan,
  checkBridge,
  ignoredOptionWarnings,
  isBridge,
  wireNodeCache,
} from "./bridge.ts";
import {
  checkMemory,
  checkPlatform,
  checkPorts,
  checkTags,
  type MemoryAccount,
  prerequisiteWarnings,
} from "./checks.ts";
import { MARKER_TAGS, MAX_REQUEST_BYTES, VOLUME } from "./constants.ts";
import { REFUSAL_REASONS, type Refusal } from "./errors.ts";
import { parseTaskMemory } from "./memory.ts";
import { type OptionLayers, type OptionSource, resolveOptions } from "./option-layers.ts";
import { type InjectOptions, type OptionName, optionsDigest } from "./options.ts";
import {
  buildContainers,
  firstEssentialAwslogs,
  type ImageMirror,
  throughMirror,
  waitForCache,
} from "./sidecars.ts";
import { type Stripped, strip } from "./strip.ts";
import { type NormalizedDefinition, normalize, type TaskDefinitionInput } from "./task-definition.ts";
import { VERSION } from "./version.ts";

export interface Injected {
  outcome: "injected";
  /** awsvpc: the sidecar and init containers; bridge: dnsServers pointing at the node cache daemon. */
  path: "awsvpc" | "bridge";
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
  /**
   * What the task needs that dns-cache cannot see (ECR Public without visible internet access, platform
   * minimums): `check` shows them; `inject` stays quiet, the definition being valid.
   */
  advisories?: string[];
  memory: MemoryAccount;
  /** Bridge path: each changed container's new dnsServers. */
  bridge?: { nodeCacheAddress: string; fallback: boolean; containers: BridgeContainerPlan[] };
}

export interface Refused {
  outcome: "refused";
  refusals: Refusal[];
  wasInjected: boolean;
  warnings: string[];
}

export type InjectResult = Injected | Refused;

export interface InjectContext extends OptionLayers {
  /** Overrides the source revision read from the input (the injector knows it from the event). */
  sourceRevision?: number;
  /** Pull ECR Public images through this private registry's pull-through cache. */
  imageMirror?: ImageMirror;
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
  const resolved = resolveOptions(definition, context);
  const { sources, errors } = resolved;
  const options: InjectOptions = {
    ...resolved.options,
    corednsImage: throughMirror(resolved.options.corednsImage, context.imageMirror),
    initImage: throughMirror(resolved.options.initImage, context.imageMirror),
  };
  const userContainers = definition.containerDefinitions;
  const ports = checkPorts(userContainers, options);
  const { memory, refusals: memoryRefusals } = checkMemory(definition, options);
  const userTags = definition.tags ?? [];
  const sourceRevision = context.sourceRevision ?? stripped.markerRevision ?? normalized.sourceRevision;
  if (isBridge(definition)) {
    const resolved = { options, sources, errors };
    return injectBridge(normalized, stripped, resolved, sourceRevision, warnings);
  }
  const refusals: Refusal[] = [
    ...stripped.refusals,
    ...errors.map((message) => ({ reason: REFUSAL_REASONS.INVALID_OPTION, message })),
    ...checkPlatform(definition),
    ...ports.refusals,
    ...memoryRefusals,
    ...checkTags(userTags.length, sourceRevision === undefined ? 2 : 3),
  ];
  if (refusals.length > 0) return { outcome: "refused", refusals, wasInjected, warnings };

  // Read before our containers join the definition: their images say nothing of the task's network.
  const advisories = prerequisiteWarnings(definition, options);
  const ours = buildContainers(options, ports.healthPort, firstEssentialAwslogs(userContainers), memory.task);
  waitForCache(userContainers, options);
  definition.containerDefinitions = [...userContainers, ...ours];
  definition.volumes = [...(definition.volumes ?? []), { name: VOLUME }];
  const digest = optionsDigest(options);
  // Tags last, as normalize() leaves them, so that re-injecting the output gives the same bytes.
  delete definition.tags;
  definition.tags = [...userTags, ...markerTags(digest, sourceRevision)];

  const tooLarge = sizeRefusal(definition, normalized.definition);
  if (tooLarge) return { outcome: "refused", wasInjected, warnings, refusals: [tooLarge] };
  const result: Injected = {
    outcome: "injected",
    path: "awsvpc",
    definition,
    upToDate: isUpToDate(stripped, digest),
    wasInjected,
    options,
    optionSources: sources,
    healthPort: ports.healthPort,
    warnings,
    advisories,
    memory,
  };
  if (sourceRevision !== undefined) result.sourceRevision = sourceRevision;
  return result;
}

/** The bridge path: no containers added, each container's dnsServers pointed at the node cache. */
function injectBridge(
  normalized: NormalizedDefinition,
  stripped: Stripped,
  { options, sources, errors }: ReturnType<typeof resolveOptions>,
  sourceRevision: number | undefined,
  warnings: string[],
): InjectResult {
  const { definition, wasInjected } = stripped;
  const userTags = definition.tags ?? [];
  const refusals: Refusal[] = [
    ...stripped.refusals,
    ...errors.map((message) => ({ reason: REFUSAL_REASONS.INVALID_OPTION, message })),
    ...checkBridge(definition),
    ...checkTags(userTags.length, sourceRevision === undefined ? 2 : 3),
  ];
  if (refusals.length > 0) return { outcome: "refused", refusals, wasInjected, warnings };
  const wired = wireNodeCache(definition.containerDefinitions, options);
  warnings.push(...wired.warnings, ...ignoredOptionWarnings(sources));
  const digest = optionsDigest(options, "bridge");
  delete definition.tags;
  definition.tags = [...userTags, ...markerTags(digest, sourceRevision)];
  const tooLarge = sizeRefusal(definition, normalized.definition);
  if (tooLarge) return { outcome: "refused", wasInjected, warnings, refusals: [tooLarge] };
  const containers = definition.containerDefinitions.reduce(
    (sum, c) => sum + (c.memoryReservation ?? c.memory ?? 0),
    0,
  );
  // normalize() has refused task memory ECS would not accept: never NaN here.
  const task = parseTaskMemory(definition.memory);
  const result: Injected = {
    outcome: "injected",
    path: "bridge",
    definition,
    upToDate: isUpToDate(stripped, digest),
    wasInjected,
    options,
    optionSources: sources,
    healthPort: null,
    warnings,
    memory: { containers, added: 0, ...(task === undefined ? {} : { task }) },
    bridge: {
      nodeCacheAddress: options.nodeCacheAddress,
      fallback: options.fallback,
      containers: wired.plan,
    },
  };
  if (sourceRevision !== undefined) result.sourceRevision = sourceRevision;
  return result;
}

function markerTags(digest: string, sourceRevision: number | undefined): Tag[] {
  return [
    { key: MARKER_TAGS.version, value: VERSION },
    { key: MARKER_TAGS.options, value: digest },
    ...(sourceRevision === undefined
      ? []
      : [{ key: MARKER_TAGS.sourceRevision, value: String(sourceRevision) }]),
  ];
}

function isUpToDate(stripped: Stripped, digest: string): boolean {
  return stripped.wasInjected && stripped.markerVersion === VERSION && stripped.markerDigest === digest;
}

function sizeRefusal(injected: TaskDefinitionInput, original: TaskDefinitionInput): Refusal | undefined {
  const size = Buffer.byteLength(JSON.stringify(injected));
  if (size <= MAX_REQUEST_BYTES) return undefined;
  const before = Buffer.byteLength(JSON.stringify(original));
  return {
    reason: REFUSAL_REASONS.DEFINITION_TOO_LARGE,
    message: `with the cache the definition would be ${size} bytes, over ECS's limit of ${MAX_REQUEST_BYTES} (it is ${before} bytes without it)`,
  };
}

/** The JSON the CLI prints: stable, two-space indented, newline-terminated. */
export function serialize(definition: TaskDefinitionInput): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}
