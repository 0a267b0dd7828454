/**
 * What each function's artifact loads at import (the entry and its static imports), from esbuild's metafile
 * of the very build that `npm run build`, `npm run bench` and `sam build` run. Sizes and timings are the
 * bench's job; this checks the structure they rest on.
 */
import type { Metafile } from "esbuild";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { functionBuildOptions, functionNames } from "../scripts/build.mjs";

type Inputs = { eager: string[]; all: string[] };
const built = new Map<string, Promise<Inputs>>();
function inputs(name: string): Promise<Inputs> {
  const cached = built.get(name) ?? bundleInputs(name);
  built.set(name, cached);
  return cached;
}

async function bundleInputs(name: string): Promise<Inputs> {
  const result = await build(functionBuildOptions(name, `/tmp/dns-cache-bundle-test/${name}`));
  const outputs = (result.metafile as Metafile).outputs;
  const entry = Object.keys(outputs).find((path) => path.endsWith("/index.mjs"));
  const loaded = new Set<string>();
  const visit = (path: string) => {
    if (loaded.has(path)) return;
    loaded.add(path);
    for (const i of outputs[path]?.imports ?? [])
      if (i.kind === "import-statement" && !i.external) visit(i.path);
  };
  visit(entry ?? "");
  const of = (paths: string[]) => paths.flatMap((p) => Object.keys(outputs[p]?.inputs ?? {}));
  return { eager: of([...loaded]), all: of(Object.keys(outputs)) };
}

const from = (list: string[], pattern: RegExp) => list.filter((path) => pattern.test(path));

describe.each(functionNames())("%s", (name) => {
  it("is split: some code loads only when a call needs it", async () => {
    const { eager, all } = await inputs(name);
    expect(all.length).toBeGreaterThan(eager.length);
    // Credential sources other than the environment's (Lambda's role) are chunks of their own.
    const otherCredentials = /credential-provider-(sso|ini|process|web-identity|http)\//;
    expect(from(all, otherCredentials).length).toBeGreaterThan(0);
    expect(from(eager, otherCredentials)).toEqual([]);
  });

  it("loads zod/mini with the English locale only, never classic zod", async () => {
    const { all } = await inputs(name);
    expect(from(all, /node_modules\/zod\/v4\/classic\//)).toEqual([]);
    expect(from(all, /node_modules\/zod\/v4\/locales\/(?!en\.js|index\.js)/)).toEqual([]);
  });
});

describe("injector", () => {
  it("loads DynamoDB and Powertools Idempotency only in inject mode (a chunk audit mode never imports)", async () => {
    const { eager, all } = await inputs("injector");
    for (const pkg of [/@aws-sdk\/client-dynamodb\//, /@aws-lambda-powertools\/idempotency\//]) {
      expect(from(all, pkg).length, String(pkg)).toBeGreaterThan(0);
      expect(from(eager, pkg), String(pkg)).toEqual([]);
    }
  });
});
