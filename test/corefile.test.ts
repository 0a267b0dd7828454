/**
 * The Corefile, line by line. The init-script tests compare what the script writes with renderCorefile's
 * own output, which cannot catch a wrong line in renderCorefile itself: here every line is spelled out, as
 * CoreDNS v1.13 reads it (each plugin's setup.go).
 */

import { describe, expect, it } from "vitest";
import { PROBE_NAME, renderCorefile } from "#shared/engine/corefile.ts";
import { DEFAULT_OPTIONS } from "#shared/engine/options.ts";

const DEFAULTS = { ...DEFAULT_OPTIONS, healthPort: 18053 };

describe("the Corefile", () => {
  it("is, with the default options, exactly this", () => {
    expect(renderCorefile(DEFAULTS, "10.0.0.2 10.0.1.2")).toBe(
      [
        ".:53 {",
        "  bind 127.0.0.1",
        "  errors",
        "  cache {",
        "    success 9984 300",
        "    denial 9984 5",
        "    prefetch 2 1m 10%",
        "    serve_stale 1h verify",
        "  }",
        "  template IN A dns-cache.invalid {",
        '    answer "{{ .Name }} 60 IN A 127.0.0.1"',
        "  }",
        "  forward . 10.0.0.2 10.0.1.2 {",
        "    max_concurrent 1000",
        "  }",
        "  loop",
        "  health 127.0.0.1:18053",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("takes each cache setting where CoreDNS reads it", () => {
    const corefile = renderCorefile(
      {
        ...DEFAULTS,
        cacheSuccessCapacity: 1234,
        cacheSuccessTtl: 60,
        cacheDenialCapacity: 4321,
        cacheDenialTtl: 2,
        serveStale: "30m immediate",
      },
      "$UPSTREAMS",
    );
    expect(corefile).toContain("\n    success 1234 60\n    denial 4321 2\n");
    expect(corefile).toContain("\n    serve_stale 30m immediate\n  }\n");
    // Inserted as is: the init script passes a shell variable.
    expect(corefile).toContain("\n  forward . $UPSTREAMS {\n");
  });

  it("leaves out prefetch, serve_stale, health and metrics when they are off", () => {
    const corefile = renderCorefile(
      { ...DEFAULTS, prefetch: false, serveStale: null, healthPort: null, metricsPort: null },
      "10.0.0.2",
    );
    expect(corefile).toContain("\n    denial 9984 5\n  }\n");
    expect(corefile).not.toMatch(/prefetch|serve_stale|health|prometheus/);
    expect(corefile).toContain("\n  loop\n}\n");
  });

  it("serves metrics on loopback only, on the port asked for", () => {
    const corefile = renderCorefile({ ...DEFAULTS, metricsPort: 19153 }, "10.0.0.2");
    expect(corefile).toContain("\n  health 127.0.0.1:18053\n  prometheus 127.0.0.1:19153\n}\n");
  });

  it("answers the probe name itself, in the zone the template serves", () => {
    expect(PROBE_NAME).toBe("probe.dns-cache.invalid");
    expect(renderCorefile(DEFAULTS, "10.0.0.2")).toContain(
      `template IN A ${PROBE_NAME.slice("probe.".length)} {`,
    );
  });
});
