import type { InjectOptions } from "./options.ts";

/** What the Corefile depends on (validated options), with the health port already chosen. */
export type CorefileConfig = Pick<
  InjectOptions,
  | "cacheSuccessCapacity"
  | "cacheSuccessTtl"
  | "cacheDenialCapacity"
  | "cacheDenialTtl"
  | "prefetch"
  | "serveStale"
  | "metricsPort"
> & { healthPort: number | null };

export const DNS_PORT = 53;

/**
 * A name the cache answers itself, never forwarded: the health probe and the supervisor ask it, so a
 * cache that does not answer DNS fails its checks while an upstream outage does not. `.invalid` is
 * reserved (RFC 2606): no real name can be shadowed.
 */
export const PROBE_ZONE = "dns-cache.invalid";
export const PROBE_NAME = `probe.${PROBE_ZONE}`;

/**
 * A per-task cache modelled on Kubernetes NodeLocal DNSCache. `upstreams` is inserted as is, so the
 * init script can pass a shell variable; it must never be the cache itself (a loop).
 */
export function renderCorefile(config: CorefileConfig, upstreams: string): string {
  const cache = [
    `    success ${config.cacheSuccessCapacity} ${config.cacheSuccessTtl}`,
    `    denial ${config.cacheDenialCapacity} ${config.cacheDenialTtl}`,
    // Refresh names asked for at least twice a minute once 10% of their TTL is left.
    ...(config.prefetch ? ["    prefetch 2 1m 10%"] : []),
    // verify (the default) asks the upstream first and answers an expired entry only when it fails
    // (CoreDNS serves stale when forward returns neither NOERROR nor NXDOMAIN), so a changed record is
    // seen within its TTL; immediate answers the old entry at once and refreshes it behind the answer.
    ...(config.serveStale ? [`    serve_stale ${config.serveStale}`] : []),
  ];
  const lines = [
    `.:${DNS_PORT} {`,
    "  bind 127.0.0.1",
    "  errors",
    "  cache {",
    ...cache,
    "  }",
    // The probe's name, answered here without the upstream. CoreDNS runs plugins in its own fixed order
    // (cache before template), so the probe also goes through the cache. Only A: other types in the
    // zone go upstream (NXDOMAIN).
    `  template IN A ${PROBE_ZONE} {`,
    `    answer "{{ .Name }} 60 IN A 127.0.0.1"`,
    "  }",
    `  forward . ${upstreams} {`,
    "    max_concurrent 1000",
    "  }",
    "  loop",
    ...(config.healthPort !== null ? [`  health 127.0.0.1:${config.healthPort}`] : []),
    ...(config.metricsPort !== null ? [`  prometheus 127.0.0.1:${config.metricsPort}`] : []),
    "}",
  ];
  return `${lines.join("\n")}\n`;
}
