/** The names, limits and marker tags of an injection: what other layers may rely on. */
import { TAG_PREFIX } from "./options.ts";

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
export const MARKER_KEYS: ReadonlySet<string> = new Set(Object.values(MARKER_TAGS));

export const MAX_CONTAINERS = 10; // per task definition, a hard ECS quota
export const MAX_TAGS = 50; // per ECS resource
export const MAX_REQUEST_BYTES = 65_536; // RegisterTaskDefinition rejects larger definitions
export const INIT_MEMORY_RESERVATION = 8; // MiB; busybox sh runs for well under a second
/** Tried in order when the health port is automatic; chosen away from common app ports (8080, 8181, 9153). */
export const HEALTH_PORT_CANDIDATES = [18053, 18054, 18055, 18056, 18057, 18058, 18059, 18060] as const;
