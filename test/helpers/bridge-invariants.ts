/**
 * Invariants of a bridge-mode injection, written independently of the engine: nothing is added but
 * `dnsServers` (node cache, then the VPC resolver with fallback, then the container's own servers, no
 * repeats), one docker label per changed container, and the marker tags.
 */
import { isDeepStrictEqual } from "node:util";
import {
  containersOf,
  isObject,
  type JsonObject,
  MARKER_KEYS,
  structuralProblems,
  tagsOf,
} from "./invariants.ts";

export const NODE_CACHE_DEFAULT = "169.254.20.10";
export const VPC_RESOLVER = "169.254.169.253";
export const UNDO_LABEL = "dns-cache.original";

/** Bridge as ECS reads it: explicit, or no networkMode on a definition that does not require Fargate. */
export function isBridgeInput(base: JsonObject): boolean {
  const compat = Array.isArray(base.requiresCompatibilities) ? base.requiresCompatibilities : [];
  return base.networkMode === "bridge" || (base.networkMode === undefined && !compat.includes("FARGATE"));
}

export function expectedServers(own: unknown, address: string, fallback: boolean): string[] {
  const list = Array.isArray(own) ? own.map(String) : [];
  return [...new Set([address, ...(fallback ? [VPC_RESOLVER] : []), ...list])];
}

function without(object: JsonObject, ...keys: string[]): JsonObject {
  const out = { ...object };
  for (const k of keys) delete out[k];
  return out;
}

export function bridgeProblems(
  base: JsonObject,
  output: JsonObject,
  { address = NODE_CACHE_DEFAULT, fallback = true } = {},
): string[] {
  const problems = structuralProblems(output);
  for (const key of new Set([...Object.keys(base), ...Object.keys(output)])) {
    if (key === "containerDefinitions" || key === "tags") continue;
    if (!isDeepStrictEqual(base[key], output[key])) problems.push(`top-level field ${key} changed`);
  }
  const before = containersOf(base);
  const after = containersOf(output);
  if (after.length !== before.length) problems.push(`${before.length} containers became ${after.length}`);
  before.forEach((original, i) => {
    const out = after[i];
    const name = String(original.name);
    if (!out || out.name !== original.name) {
      problems.push(`container ${i} is not ${name}`);
      return;
    }
    if (original.disableNetworking === true) {
      if (!isDeepStrictEqual(out, original)) problems.push(`${name} has no network but was changed`);
      return;
    }
    if (
      !isDeepStrictEqual(
        without(out, "dnsServers", "dockerLabels"),
        without(original, "dnsServers", "dockerLabels"),
      )
    )
      problems.push(`${name} changed beyond dnsServers and dockerLabels`);
    const servers = expectedServers(original.dnsServers, address, fallback);
    if (!isDeepStrictEqual(out.dnsServers, servers))
      problems.push(
        `${name} dnsServers ${JSON.stringify(out.dnsServers)}, expected ${JSON.stringify(servers)}`,
      );
    const labels = isObject(out.dockerLabels) ? out.dockerLabels : {};
    const originalLabels = isObject(original.dockerLabels) ? original.dockerLabels : {};
    if (!isDeepStrictEqual(without(labels, UNDO_LABEL), originalLabels))
      problems.push(`${name} docker labels changed beyond ${UNDO_LABEL}`);
    if (typeof labels[UNDO_LABEL] !== "string") problems.push(`${name} has no ${UNDO_LABEL} label`);
  });
  const tagsBefore = tagsOf(base);
  const tagsAfter = tagsOf(output);
  if (!isDeepStrictEqual(tagsAfter.slice(0, tagsBefore.length), tagsBefore))
    problems.push("original tags changed, dropped or reordered");
  const added = tagsAfter.slice(tagsBefore.length);
  if (!added.every((t) => MARKER_KEYS.includes(t.key)) || !added.some((t) => t.key === "dns-cache:version"))
    problems.push(`added tags are not the markers: ${JSON.stringify(added)}`);
  return problems;
}

/** An earlier bridge injection undone from its labels and marker tags, independently of the engine. */
export function stripBridgeInput(base: JsonObject): JsonObject {
  const out = structuredClone(base);
  for (const c of containersOf(out)) {
    const labels = isObject(c.dockerLabels) ? c.dockerLabels : undefined;
    const raw = labels?.[UNDO_LABEL];
    if (!labels || typeof raw !== "string") continue;
    const record = JSON.parse(raw) as { dnsServers?: string[]; noLabels?: boolean };
    if (record.dnsServers === undefined) delete c.dnsServers;
    else c.dnsServers = record.dnsServers;
    delete labels[UNDO_LABEL];
    if (record.noLabels && Object.keys(labels).length === 0) delete c.dockerLabels;
  }
  if (Array.isArray(out.tags)) out.tags = tagsOf(out).filter((t) => !MARKER_KEYS.includes(t.key)) as never;
  return out;
}
