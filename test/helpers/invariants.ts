/**
 * Invariants an injected task definition must satisfy, written independently of the engine (its own
 * normalisation, memory parsing and constants) so that a bug in shared code is not mirrored here.
 * Every check returns a list of problems; an empty list means the definition passes.
 */
import { isDeepStrictEqual } from "node:util";

export const INIT_NAME = "dns-cache-init";
export const CACHE_NAME = "dns-cache";
export const VOLUME_NAME = "dns-cache";
export const OUR_NAMES: readonly string[] = [INIT_NAME, CACHE_NAME];
export const MARKER_KEYS: readonly string[] = [
  "dns-cache:version",
  "dns-cache:options",
  "dns-cache:source-revision",
];
/** ECS quotas: containers per task definition, tags per resource, task definition size. */
export const ECS_MAX_CONTAINERS = 10;
export const ECS_MAX_TAGS = 50;
export const ECS_MAX_DEFINITION_BYTES = 65536;
/** Returned by DescribeTaskDefinition, rejected by RegisterTaskDefinition. */
export const READ_ONLY_FIELDS: readonly string[] = [
  "taskDefinitionArn",
  "revision",
  "status",
  "requiresAttributes",
  "compatibilities",
  "registeredAt",
  "registeredBy",
  "deregisteredAt",
];

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export interface TagJson {
  key: string;
  value?: string;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function objects(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

export function containersOf(definition: JsonObject): JsonObject[] {
  return objects(definition.containerDefinitions);
}

export function tagsOf(definition: JsonObject): TagJson[] {
  return objects(definition.tags) as unknown as TagJson[];
}

const RESERVED_TAG = /^aws:/i;

/** The bytes ECS receives: the request as compact JSON. */
export function requestBytes(definition: unknown): number {
  return Buffer.byteLength(JSON.stringify(definition), "utf8");
}

/**
 * The RegisterTaskDefinition input an injection must preserve, from any accepted input form: a request, a
 * DescribeTaskDefinition output ({taskDefinition, tags}) or a bare described definition. Read-only fields are
 * dropped, tags are moved to the end and reserved `aws:` tags are dropped. With `stripInjection`, an earlier
 * injection (our containers, our dependsOn entries, our volume, our marker tags) is removed too.
 */
export function expectedBase(input: unknown, { stripInjection = false } = {}): JsonObject {
  if (!isObject(input)) throw new Error("not an object");
  const wrapped = isObject(input.taskDefinition);
  const body = wrapped ? (input.taskDefinition as JsonObject) : input;
  const tags = wrapped ? (input.tags ?? body.tags) : body.tags;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    if (READ_ONLY_FIELDS.includes(key) || key === "tags" || key === "$metadata") continue;
    out[key] = structuredClone(value);
  }
  if (tags !== undefined && tags !== null) {
    out.tags = (objects(tags) as unknown as TagJson[])
      .filter((t) => !RESERVED_TAG.test(t.key))
      .map((t) => ({ ...t })) as unknown as Json;
  }
  if (stripInjection) {
    out.containerDefinitions = containersOf(out)
      .filter((c) => !OUR_NAMES.includes(String(c.name)))
      .map((c) => {
        if (!Array.isArray(c.dependsOn)) return c;
        return {
          ...c,
          dependsOn: objects(c.dependsOn).filter((d) => !OUR_NAMES.includes(String(d.containerName))),
        };
      });
    if (Array.isArray(out.volumes)) out.volumes = objects(out.volumes).filter((v) => v.name !== VOLUME_NAME);
    if (Array.isArray(out.tags))
      out.tags = tagsOf(out).filter((t) => !MARKER_KEYS.includes(t.key)) as unknown as Json;
  }
  return out;
}

/** Task memory in MiB as ECS accepts it ("512", 512, "1 GB", "2gb"); undefined when unset. */
export function taskMemoryMiB(value: unknown): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "number") return value;
  const text = String(value).trim();
  const gb = /^(\d+(?:\.\d+)?)\s*gb$/i.exec(text);
  if (gb) return Number(gb[1]) * 1024;
  const mb = /^(\d+)\s*(mb|mib)?$/i.exec(text);
  if (mb) return Number(mb[1]);
  throw new Error(`unparseable task memory ${JSON.stringify(value)}`);
}

interface PortSpan {
  from: number;
  to: number;
  container: string;
}

export function declaredPortSpans(containers: readonly JsonObject[]): PortSpan[] {
  const spans: PortSpan[] = [];
  for (const c of containers) {
    for (const p of objects(c.portMappings)) {
      for (const port of [p.containerPort, p.hostPort]) {
        if (typeof port === "number") spans.push({ from: port, to: port, container: String(c.name) });
      }
      const range =
        typeof p.containerPortRange === "string" ? /^(\d+)-(\d+)$/.exec(p.containerPortRange) : null;
      if (range) spans.push({ from: Number(range[1]), to: Number(range[2]), container: String(c.name) });
    }
  }
  return spans;
}

/** ECS rules any registrable definition follows; checked on the output, whatever the input was. */
export function structuralProblems(definition: JsonObject): string[] {
  const problems: string[] = [];
  const containers = containersOf(definition);
  const byName = new Map(containers.map((c) => [String(c.name), c]));

  const bytes = requestBytes(definition);
  if (bytes > ECS_MAX_DEFINITION_BYTES)
    problems.push(`definition is ${bytes} bytes as JSON, above ECS's ${ECS_MAX_DEFINITION_BYTES}`);
  if (containers.length > ECS_MAX_CONTAINERS)
    problems.push(`${containers.length} containers, above ECS's ${ECS_MAX_CONTAINERS}`);
  if (byName.size !== containers.length) problems.push("container names are not unique");
  if (!containers.some((c) => c.essential !== false)) problems.push("no essential container");

  for (const c of containers) {
    for (const d of objects(c.dependsOn)) {
      const target = byName.get(String(d.containerName));
      const where = `${String(c.name)} dependsOn ${String(d.containerName)} ${String(d.condition)}`;
      if (!target) {
        problems.push(`${where}: no such container`);
        continue;
      }
      if (d.containerName === c.name) problems.push(`${where}: depends on itself`);
      if (d.condition === "HEALTHY" && !isObject(target.healthCheck))
        problems.push(`${where}: the target has no healthCheck`);
      if ((d.condition === "SUCCESS" || d.condition === "COMPLETE") && target.essential !== false)
        problems.push(`${where}: the target is essential`);
    }
  }
  const cycle = findCycle(containers);
  if (cycle) problems.push(`dependsOn cycle: ${cycle.join(" -> ")}`);

  const taskMemory = taskMemoryMiB(definition.memory);
  if (taskMemory !== undefined) {
    const reserved = containers.reduce((sum, c) => sum + Number(c.memoryReservation ?? c.memory ?? 0), 0);
    if (reserved > taskMemory)
      problems.push(`containers reserve ${reserved} MiB, above the task's ${taskMemory} MiB`);
    for (const c of containers) {
      if (typeof c.memory === "number" && c.memory > taskMemory)
        problems.push(`${String(c.name)}: memory ${c.memory} MiB is above the task's ${taskMemory} MiB`);
    }
  }
  for (const c of containers) {
    if (
      typeof c.memory === "number" &&
      typeof c.memoryReservation === "number" &&
      c.memoryReservation > c.memory
    )
      problems.push(
        `${String(c.name)}: memoryReservation ${c.memoryReservation} is above memory ${c.memory}`,
      );
  }

  const volumeNames = new Set(objects(definition.volumes).map((v) => String(v.name)));
  for (const c of containers) {
    for (const m of objects(c.mountPoints)) {
      if (!volumeNames.has(String(m.sourceVolume)))
        problems.push(`${String(c.name)}: mounts volume ${String(m.sourceVolume)}, which is not declared`);
    }
  }

  const tags = tagsOf(definition);
  if (tags.length > ECS_MAX_TAGS) problems.push(`${tags.length} tags, above ECS's ${ECS_MAX_TAGS}`);
  const keys = tags.map((t) => t.key);
  if (new Set(keys).size !== keys.length) problems.push(`duplicate tag keys: ${JSON.stringify(keys)}`);
  for (const t of tags) if (RESERVED_TAG.test(t.key)) problems.push(`reserved tag ${t.key} in a request`);
  for (const f of READ_ONLY_FIELDS) if (f in definition) problems.push(`read-only field ${f} in a request`);
  return problems;
}

function findCycle(containers: readonly JsonObject[]): string[] | undefined {
  const edges = new Map<string, string[]>();
  for (const c of containers)
    edges.set(
      String(c.name),
      objects(c.dependsOn).map((d) => String(d.containerName)),
    );
  const state = new Map<string, "visiting" | "done">();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === "done") return undefined;
    if (state.get(name) === "visiting") return [...path.slice(path.indexOf(name)), name];
    state.set(name, "visiting");
    path.push(name);
    for (const next of edges.get(name) ?? []) {
      if (!edges.has(next)) continue;
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    state.set(name, "done");
    return undefined;
  };
  for (const name of edges.keys()) {
    const found = visit(name);
    if (found) return found;
  }
  return undefined;
}

function without(object: JsonObject, key: string): JsonObject {
  const { [key]: _dropped, ...rest } = object;
  return rest;
}

/**
 * Everything of `base` survives in `output`, and the only additions are ours: two containers appended,
 * two dependsOn entries appended to every original container, one volume appended, marker tags appended.
 */
export function preservationProblems(base: JsonObject, output: JsonObject): string[] {
  const problems: string[] = [];
  const special = new Set(["containerDefinitions", "volumes", "tags"]);
  for (const key of Object.keys(base)) {
    if (special.has(key)) continue;
    if (!(key in output)) problems.push(`top-level field ${key} was dropped`);
    else if (!isDeepStrictEqual(output[key], base[key])) problems.push(`top-level field ${key} changed`);
  }
  for (const key of Object.keys(output)) {
    if (!special.has(key) && !(key in base)) problems.push(`top-level field ${key} was added`);
  }

  const before = containersOf(base);
  const after = containersOf(output);
  if (after.length !== before.length + 2)
    problems.push(`expected ${before.length} + 2 containers, got ${after.length}`);
  const cache = after.find((c) => c.name === CACHE_NAME);
  const init = after.find((c) => c.name === INIT_NAME);
  if (!cache || !init) problems.push(`missing ${CACHE_NAME} or ${INIT_NAME}`);
  // START unless the family asks for HEALTHY: nothing the cache does may hold the app for longer than the
  // init script takes.
  const waitTag = tagsOf(base).find((t) => t.key === "dns-cache:wait-for");
  const appCondition =
    String(waitTag?.value ?? "")
      .trim()
      .toLowerCase() === "healthy" && isObject(cache?.healthCheck)
      ? "HEALTHY"
      : "START";
  before.forEach((original, i) => {
    const out = after[i];
    if (!out || out.name !== original.name) {
      problems.push(`container ${i} should be ${String(original.name)}, got ${String(out?.name)}`);
      return;
    }
    if (!isDeepStrictEqual(without(out, "dependsOn"), without(original, "dependsOn")))
      problems.push(`container ${String(original.name)} changed beyond dependsOn`);
    const expectedDeps = [
      ...objects(original.dependsOn),
      { containerName: INIT_NAME, condition: "SUCCESS" },
      { containerName: CACHE_NAME, condition: appCondition },
    ];
    if (!isDeepStrictEqual(out.dependsOn, expectedDeps))
      problems.push(
        `container ${String(original.name)} dependsOn is ${JSON.stringify(out.dependsOn)}, expected ${JSON.stringify(expectedDeps)}`,
      );
  });
  const ours = after.slice(before.length).map((c) => String(c.name));
  if (!isDeepStrictEqual([...ours].sort(), [...OUR_NAMES].sort()))
    problems.push(`appended containers are ${JSON.stringify(ours)}`);
  if (init && init.essential !== false) problems.push(`${INIT_NAME} must be non-essential`);
  if (cache && cache.essential !== false) problems.push(`${CACHE_NAME} must be non-essential`);

  const volumesBefore = objects(base.volumes);
  const volumesAfter = objects(output.volumes);
  if (!isDeepStrictEqual(volumesAfter.slice(0, volumesBefore.length), volumesBefore))
    problems.push("original volumes changed");
  const addedVolumes = volumesAfter.slice(volumesBefore.length);
  if (addedVolumes.length !== 1 || addedVolumes[0]?.name !== VOLUME_NAME)
    problems.push(`expected one added volume ${VOLUME_NAME}, got ${JSON.stringify(addedVolumes)}`);

  const tagsBefore = tagsOf(base);
  const tagsAfter = tagsOf(output);
  if (!isDeepStrictEqual(tagsAfter.slice(0, tagsBefore.length), tagsBefore))
    problems.push("original tags changed, dropped or reordered");
  const added = tagsAfter.slice(tagsBefore.length);
  if (!added.every((t) => MARKER_KEYS.includes(t.key)))
    problems.push(`added tags other than markers: ${JSON.stringify(added)}`);
  if (!added.some((t) => t.key === "dns-cache:version")) problems.push("no dns-cache:version marker tag");

  const ports = declaredPortSpans(before);
  const initScript = Array.isArray(init?.command) ? String(init.command[0] ?? "") : "";
  const healthPort = Number(/^ {2}health 127\.0\.0\.1:(\d+)$/m.exec(initScript)?.[1]) || undefined;
  for (const port of [53, ...(healthPort ? [healthPort] : [])]) {
    const user = ports.find((p) => port >= p.from && port <= p.to);
    if (user) problems.push(`port ${port} used by the cache is declared by ${user.container}`);
  }
  return problems;
}

/** All the invariants for an injected output. */
export function injectedProblems(base: JsonObject, output: JsonObject): string[] {
  return [...structuralProblems(output), ...preservationProblems(base, output)];
}
