/**
 * The reader the IAM check rests on (test/helpers/sdk-calls.ts): it must find an SDK call however the
 * command was imported, and refuse what it cannot name rather than miss it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { reachable, readSources, sdkActions, valueImports } from "./helpers/sdk-calls.ts";

const actions = (text: string) => sdkActions("f.ts", text);

describe("sdkActions", () => {
  it.each([
    ["named", `import { ListTasksCommand } from "@aws-sdk/client-ecs";\nc.send(new ListTasksCommand({}));`],
    ["renamed", `import { ListTasksCommand as L } from "@aws-sdk/client-ecs";\nc.send(new L({}));`],
    ["namespace", `import * as ecs from "@aws-sdk/client-ecs";\nc.send(new ecs.ListTasksCommand({}));`],
    ["default", `import ecs from "@aws-sdk/client-ecs";\nc.send(new ecs.ListTasksCommand({}));`],
    ["import = require", `import ecs = require("@aws-sdk/client-ecs");\nnew ecs.ListTasksCommand({});`],
    [
      "dynamic, whole module",
      `const ecs = await import("@aws-sdk/client-ecs");\nnew ecs.ListTasksCommand({});`,
    ],
    [
      "dynamic, destructured and renamed",
      `const { ListTasksCommand: L } = await import("@aws-sdk/client-ecs");\nnew L({});`,
    ],
    [
      "dynamic, destructured",
      `async function f() {\n  const { ListTasksCommand } = await (import("@aws-sdk/client-ecs"));\n  new ListTasksCommand({});\n}`,
    ],
    [
      "mixed with type imports",
      `import { type Task, ListTasksCommand } from "@aws-sdk/client-ecs";\nnew ListTasksCommand({});`,
    ],
  ])("finds a command imported %s", (_, text) => {
    expect(actions(text)).toEqual(["ecs:ListTasks"]);
  });

  it.each([
    [
      "named",
      `import { paginateListTasks } from "@aws-sdk/client-ecs";\nfor await (const p of paginateListTasks({ client }, {})) {}`,
    ],
    ["renamed", `import { paginateListTasks as pages } from "@aws-sdk/client-ecs";\npages({ client }, {});`],
    ["namespace", `import * as ecs from "@aws-sdk/client-ecs";\necs.paginateListTasks({ client }, {});`],
  ])("finds a paginator imported %s", (_, text) => {
    expect(actions(text)).toEqual(["ecs:ListTasks"]);
  });

  it("maps each package to its IAM prefix, every call in source order, repeats kept", () => {
    const text = [
      `import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";`,
      `import * as events from "@aws-sdk/client-eventbridge";`,
      `import { GetItemCommand } from "@aws-sdk/client-dynamodb";`,
      `import { DescribeTasksCommand } from "@aws-sdk/client-ecs";`,
      `const sts = new STSClient({});`,
      `await sts.send(new AssumeRoleCommand({}));`,
      `await x.send(new events.PutEventsCommand({}));`,
      `function f() { return [new GetItemCommand({}), new DescribeTasksCommand({}), new DescribeTasksCommand({})]; }`,
    ].join("\n");
    expect(actions(text)).toEqual([
      "sts:AssumeRole",
      "events:PutEvents",
      "dynamodb:GetItem",
      "ecs:DescribeTasks",
      "ecs:DescribeTasks",
    ]);
  });

  it("ignores clients, type-only imports, other modules and code that sends nothing", () => {
    const text = [
      `import type { ListTasksCommand } from "@aws-sdk/client-ecs";`,
      `import { type DescribeTasksCommand, ECSClient } from "@aws-sdk/client-ecs";`,
      `import * as ecs from "@aws-sdk/client-ecs";`,
      `import { paginate } from "./pages.ts";`,
      `const client = new ECSClient({});`,
      `const other = new ecs.ECSClient({});`,
      `const m = new Map(); paginate(m); ecs.waiterState; client.config;`,
      `let c: ListTasksCommand | DescribeTasksCommand;`,
    ].join("\n");
    expect(actions(text)).toEqual([]);
  });

  it.each([
    [
      "a Command from elsewhere",
      `import { ListTasksCommand } from "./sdk.ts";\nnew ListTasksCommand({});`,
      /ListTasksCommand is not imported from an @aws-sdk package/,
    ],
    [
      "a namespaced Command from elsewhere",
      `import * as sdk from "./sdk.ts";\nnew sdk.ListTasksCommand({});`,
      /sdk.ListTasksCommand is not imported/,
    ],
    [
      "a paginator from elsewhere",
      `import { paginateListTasks } from "./sdk.ts";\npaginateListTasks({}, {});`,
      /paginateListTasks is not imported/,
    ],
    [
      "an aggregated client",
      `import { ECS } from "@aws-sdk/client-ecs";\nconst e = new ECS({});\ne.listTasks({});`,
      /f.ts:2: new ECS\(\): use the SDK's …Client and …Command classes/,
    ],
    [
      "a namespaced aggregated client",
      `import * as ecs from "@aws-sdk/client-ecs";\nnew ecs.ECS({});`,
      /new ecs.ECS\(\)/,
    ],
    [
      "a waiter",
      `import { waitUntilTasksStopped } from "@aws-sdk/client-ecs";\nawait waitUntilTasksStopped({}, {});`,
      /f.ts:2: waitUntilTasksStopped\(\) polls calls/,
    ],
    [
      "a package without a known IAM prefix",
      `import { PublishCommand } from "@aws-sdk/client-sns";\nnew PublishCommand({});`,
      /f.ts:2: no IAM prefix known for @aws-sdk\/client-sns/,
    ],
  ])("refuses %s rather than miss a call", (_, text, message) => {
    expect(() => actions(text)).toThrow(message);
  });

  it.each([
    [
      "a call that is not import()",
      `const sdk = load("@aws-sdk/client-ecs");\nnew sdk.ListTasksCommand({});`,
    ],
    [
      "an array destructuring of import()",
      `const [ListTasksCommand] = await import("@aws-sdk/client-ecs");\nnew ListTasksCommand({});`,
    ],
    ["a local module through import =", `import sdk = require("./sdk");\nnew sdk.ListTasksCommand({});`],
    [
      "a local module through import()",
      `const sdk = await import("./sdk.ts");\nnew sdk.ListTasksCommand({});`,
    ],
  ])("does not take %s for the SDK, so a Command through it is refused", (_, text) => {
    expect(() => actions(text)).toThrow(/ListTasksCommand is not imported from an @aws-sdk package/);
  });

  it("reads other modules, loaded any way, as sending nothing, and names only …Command classes", () => {
    const text = [
      `import fs = require("node:fs");`,
      `const path = await import("node:path");`,
      `import { CommandBus } from "./bus.ts";`,
      `const bus = new CommandBus();`,
      `fs.readFileSync(path.join("a"));`,
    ].join("\n");
    expect(actions(text)).toEqual([]);
  });

  it("reads a compiled library the same way (Powertools' DynamoDB layer is JavaScript)", () => {
    const js = `import { DynamoDBClient, PutItemCommand, DeleteItemCommand } from '@aws-sdk/client-dynamodb';\nclass L { async p() { await this.client.send(new PutItemCommand({})); await this.client.send(new DeleteItemCommand({})); } }`;
    expect(sdkActions("layer.js", js)).toEqual(["dynamodb:PutItem", "dynamodb:DeleteItem"]);
  });
});

describe("valueImports", () => {
  it("lists the project modules loaded at run time, in order, and nothing erased at build", () => {
    const text = [
      `import { a } from "./a.ts";`,
      `import type { B } from "./b.ts";`,
      `import { type C } from "./c.ts";`,
      `import { type D, d } from "../d.ts";`,
      `import e from "#shared/engine/e.ts";`,
      `import "./side-effect.ts";`,
      `import { z } from "zod";`,
      `import * as ns from "./ns.ts";`,
      `export { f } from "./f.ts";`,
      `export type { G } from "./g.ts";`,
      `export * from "#shared/h.ts";`,
      `export const x = 1;`,
      `export { a };`,
      `import D, { type I } from "./default-and-types.ts";`,
      `import {} from "./nothing-named.ts";`,
      `const notAnImport = load("./loaded.ts");`,
      `async function later() { return import("./lazy.ts"); }`,
      `const pkg = await import("zod");`,
    ].join("\n");
    expect(valueImports("f.ts", text)).toEqual([
      "./a.ts",
      "../d.ts",
      "#shared/engine/e.ts",
      "./side-effect.ts",
      "./ns.ts",
      "./f.ts",
      "#shared/h.ts",
      "./default-and-types.ts",
      "./nothing-named.ts",
      "./lazy.ts",
    ]);
  });
});

describe("readSources and reachable", () => {
  const root = mkdtempSync(join(tmpdir(), "sdk-calls-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  write("functions/f/handler.ts", `import { run } from "#shared/flow/run.ts";\nexport const h = run;`);
  write(
    "shared/flow/run.ts",
    `import { list } from "../aws/calls.ts";\nimport type { T } from "./types.ts";\nexport const run = list;`,
  );
  write("shared/flow/types.ts", `import { a } from "../aws/unused.ts";\nexport type T = 1;`);
  write(
    "shared/aws/calls.ts",
    `import * as ecs from "@aws-sdk/client-ecs";\nexport const list = () => new ecs.ListTasksCommand({});`,
  );
  write(
    "shared/aws/unused.ts",
    `import { StopTaskCommand } from "@aws-sdk/client-ecs";\nexport const a = new StopTaskCommand({});`,
  );
  write("shared/aws/notes.md", "new ListClustersCommand(");

  it("reads every .ts file with its absolute imports and its calls", () => {
    const sources = [
      ...readSources(root, join(root, "functions")),
      ...readSources(root, join(root, "shared")),
    ];
    const byPath = Object.fromEntries(sources.map((s) => [s.path.slice(root.length + 1), s]));
    expect(Object.keys(byPath).sort()).toEqual([
      "functions/f/handler.ts",
      "shared/aws/calls.ts",
      "shared/aws/unused.ts",
      "shared/flow/run.ts",
      "shared/flow/types.ts",
    ]);
    expect(byPath["functions/f/handler.ts"]?.imports).toEqual([join(root, "shared/flow/run.ts")]);
    expect(byPath["shared/flow/run.ts"]?.imports).toEqual([join(root, "shared/aws/calls.ts")]);
    expect(byPath["shared/aws/calls.ts"]?.actions).toEqual(["ecs:ListTasks"]);
    expect(byPath["shared/flow/run.ts"]?.text).toContain("export const run");
  });

  it("follows value imports only, from the handler to the calls it can make", () => {
    const sources = [
      ...readSources(root, join(root, "functions")),
      ...readSources(root, join(root, "shared")),
    ];
    const files = reachable(sources, join(root, "functions/f/handler.ts"));
    expect(files.map((f) => f.path.slice(root.length + 1))).toEqual([
      "functions/f/handler.ts",
      "shared/flow/run.ts",
      "shared/aws/calls.ts",
    ]);
    expect(files.flatMap((f) => f.actions)).toEqual(["ecs:ListTasks"]);
  });

  it("refuses an import of a file it did not read", () => {
    const sources = readSources(root, join(root, "functions"));
    expect(() => reachable(sources, join(root, "functions/f/handler.ts"))).toThrow(
      `import of ${join(root, "shared/flow/run.ts")}: not one of the source files read`,
    );
  });

  it("visits a file imported twice once (import cycles end)", () => {
    write("shared/cycle/a.ts", `import { b } from "./b.ts";\nexport const a = b;`);
    write(
      "shared/cycle/b.ts",
      `import { a } from "./a.ts";\nimport { a as again } from "./a.ts";\nexport const b = a;`,
    );
    const sources = readSources(root, join(root, "shared/cycle"));
    expect(
      reachable(sources, join(root, "shared/cycle/a.ts")).map((f) => f.path.slice(root.length + 1)),
    ).toEqual(["shared/cycle/a.ts", "shared/cycle/b.ts"]);
  });
});
