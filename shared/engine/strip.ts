/** Removing an earlier injection, so that injecting again gives the same result (Istio's injector does the same). */

import { stripBridge } from "./bridge.ts";
import {
  CACHE_CONTAINER,
  COMPONENT_LABEL,
  INIT_CONTAINER,
  MARKER_KEYS,
  MARKER_TAGS,
  VOLUME,
} from "./constants.ts";
import { REFUSAL_REASONS, type Refusal } from "./errors.ts";
import type { Container, TaskDefinitionInput } from "./task-definition.ts";

export function isOurs(container: Container, name: string): boolean {
  return container.name === name && typeof container.dockerLabels?.[COMPONENT_LABEL] === "string";
}

export interface Stripped {
  definition: TaskDefinitionInput;
  wasInjected: boolean;
  markerRevision?: number;
  markerVersion?: string;
  markerDigest?: string;
  refusals: Refusal[];
}

/** Removes an earlier injection (ours: our labels, or our names plus our marker tags). */
export function strip(input: TaskDefinitionInput): Stripped {
  const definition = structuredClone(input);
  const tags = definition.tags ?? [];
  const marker = (key: string) => tags.find((t) => t.key === key)?.value;
  const markerVersion = marker(MARKER_TAGS.version);
  const markerDigest = marker(MARKER_TAGS.options);
  const markerRevisionText = marker(MARKER_TAGS.sourceRevision);
  const ourNames = [CACHE_CONTAINER, INIT_CONTAINER];
  const taggedAsInjected = markerVersion !== undefined;
  // Bridge injections leave no container of ours, only an undo record on each container they changed.
  const bridge = stripBridge(definition.containerDefinitions);
  const wasInjected =
    taggedAsInjected ||
    bridge.stripped ||
    definition.containerDefinitions.some((c) => ourNames.some((n) => isOurs(c, n)));

  const refusals: Refusal[] = [...bridge.refusals];
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
