/** What the Corefile depends on; all values are validated before they get here. */
export interface CorefileConfig {
  cacheSuccessCapacity: number;
  cacheSuccessTtl: number;
  cacheDenialCapacity: number;
  cacheDenialTtl: number;
  prefetch: boolean;
  serveStale: string | null;
  healthPort: number | null;
  metricsPort: number | null;
}

export const DNS_PORT = 53;

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
    // immediate (the default): an expired entry is answered at once and refreshed behind it, so a
    // silent upstream (the VPC resolver dropping packets over its quota) costs the app nothing; verify
    // asks the upstream first and so waits up to forward's 5 s when it is silent.
    ...(config.serveStale ? [`    serve_stale ${config.serveStale}`] : []),
  ];
  const lines = [
    `.:${DNS_PORT} {`,
    "  bind 127.0.0.1",
    "  errors",
    "  cache {",
    ...cache,
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
