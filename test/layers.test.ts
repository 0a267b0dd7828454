/** The layout's import rules (test/helpers/import-rules.ts), held to every file and to hand-made breaches. */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { importsOf, layerOf, projectTarget, ROOT, violations } from "./helpers/import-rules.ts";

function projectFiles(): string[] {
  return ["shared", "functions", "bin"].flatMap((dir) =>
    readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith(".ts"))
      .map((d) => relative(ROOT, join(d.parentPath, d.name))),
  );
}

describe("the layout's import rules", () => {
  const files = projectFiles();

  it("every file of shared/ sits in a layer folder", () => {
    const loose = files.filter((f) => f.startsWith("shared/") && f.split("/").length !== 3);
    expect(loose).toEqual([]);
  });

  it("every import in shared/, functions/ and bin/ follows its layer's rule", () => {
    const broken = files.flatMap((f) => violations(f, readFileSync(join(ROOT, f), "utf8")));
    expect(broken).toEqual([]);
  });

  it("has no import cycle between layers", () => {
    const edges = new Set<string>();
    for (const f of files) {
      for (const { specifier } of importsOf(f, readFileSync(join(ROOT, f), "utf8"))) {
        const target = projectTarget(f, specifier);
        const from = layerOf(f);
        const to = target && layerOf(target);
        if (from && to && from !== to) edges.add(`${from}>${to}`);
      }
    }
    for (const edge of edges) {
      const [from, to] = edge.split(">");
      expect(edges.has(`${to}>${from}`), `${from} and ${to} import each other`).toBe(false);
    }
  });

  describe("catches", () => {
    const cases: Array<[string, string, string]> = [
      [
        "the engine importing the ECS client",
        "shared/engine/x.ts",
        'import { ECSClient } from "@aws-sdk/client-ecs";',
      ],
      [
        "the engine re-exporting the SDK",
        "shared/engine/x.ts",
        'export { ECSClient } from "@aws-sdk/client-ecs";',
      ],
      [
        "the engine loading the SDK lazily",
        "shared/engine/x.ts",
        'const m = await import("@aws-sdk/client-ecs");',
      ],
      [
        "the engine importing a namespace of the SDK",
        "shared/engine/x.ts",
        'import * as ecs from "@aws-sdk/client-ecs";',
      ],
      ["the engine reading files", "shared/engine/x.ts", 'import { readFile } from "node:fs/promises";'],
      [
        "the engine importing an adapter",
        "shared/engine/x.ts",
        'import { classify } from "#shared/aws/errors.ts";',
      ],
      [
        "the engine importing a flow by a relative path",
        "shared/engine/x.ts",
        'import { a } from "../injector/flow.ts";',
      ],
      [
        "an adapter importing a flow",
        "shared/aws/x.ts",
        'import type { Outcome } from "#shared/injector/flow.ts";',
      ],
      [
        "a flow importing a handler",
        "shared/health/x.ts",
        'import { handler } from "../../functions/health/handler.ts";',
      ],
      ["a flow importing the CLI", "shared/injector/x.ts", 'import { runCli } from "#shared/cli/cli.ts";'],
      ["the CLI importing the SDK", "shared/cli/x.ts", 'import { ECSClient } from "@aws-sdk/client-ecs";'],
      [
        "a handler importing another function's handler",
        "functions/health/handler.ts",
        'import { handler } from "../injector/handler.ts";',
      ],
      ["a new folder without a rule", "shared/misc/x.ts", 'import { a } from "./b.ts";'],
    ];
    it.each(cases)("%s", (_name, path, text) => {
      expect(violations(path, text).length).toBeGreaterThan(0);
    });

    it("but lets the engine name the SDK's types, which the build erases", () => {
      expect(violations("shared/engine/x.ts", 'import type { Tag } from "@aws-sdk/client-ecs";')).toEqual([]);
      expect(violations("shared/engine/x.ts", 'import { type Tag } from "@aws-sdk/client-ecs";')).toEqual([]);
    });
  });
});
