/**
 * The deployment templates (infra/template.yaml, SAM; infra/member-account.yaml, plain CloudFormation),
 * evaluated for several parameter sets: what the functions are built from, what triggers them, what they may
 * do (checked against the SDK calls in the code), and which sample events the rules let through.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientProvider, INJECTOR_SESSION_NAME } from "#shared/aws/clients.ts";
import { zeroApiCalls } from "#shared/aws/ecs-tasks.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import { enforcerObserver } from "#shared/enforcer/observer.ts";
import { CACHE_CONTAINER, MARKER_TAGS } from "#shared/engine/constants.ts";
import { envNameOf, OPTION_SPECS } from "#shared/engine/options.ts";
import { METRIC_NAMES, zeroCounts, zeroNodeCacheCounts } from "#shared/health/classify.ts";
import { loadHealthConfig } from "#shared/health/config.ts";
import { healthObserver } from "#shared/health/observer.ts";
import { isScheduledEvent } from "#shared/health/task-state-event.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import type { OutcomeKind } from "#shared/injector/flow.ts";
import { injectorObserver } from "#shared/injector/observer.ts";
import { METRICS_NAMESPACE } from "#shared/runtime/observability.ts";
import { buildFunction, functionNames, HANDLER } from "../scripts/build.mjs";
import { reachable as reachableFrom, readSources, type SourceFile, sdkActions } from "./helpers/sdk-calls.ts";
import {
  isObject,
  type Json,
  type JsonObject,
  loadTemplate,
  type Pseudo,
  type Resolved,
  type Resource,
  resolveTemplate,
} from "./support/cfn-yaml.ts";
import { type ArrayMode, matchesPattern } from "./support/event-pattern.ts";

const ROOT = new URL("../", import.meta.url);
const INFRA = new URL("infra/", ROOT);
const central = loadTemplate(new URL("template.yaml", INFRA));
const member = loadTemplate(new URL("member-account.yaml", INFRA));
const guard = loadTemplate(new URL("guard-scp.yaml", INFRA));

const CENTRAL: Pseudo = {
  account: "111111111111",
  region: "us-east-1",
  partition: "aws",
  stackName: "dns-cache",
};
const ORG_ID = "o-a1b2c3d4e5";

type Params = Record<string, string>;
const SINGLE: Params = {};
const AUDIT: Params = { Mode: "audit" };
const ORG: Params = { OrganizationId: ORG_ID };
const ORG_AUDIT: Params = { ...ORG, ...AUDIT };
const TUNED: Params = {
  SweepSchedule: "off",
  EnableTracing: "true",
  PassRoleArns:
    "arn:aws:iam::111111111111:role/ecs-task-*,arn:aws:iam::111111111111:role/ecsTaskExecutionRole",
  AlertEventBus: "arn:aws:events:us-east-1:222222222222:event-bus/alerts",
  AlarmTopicArn: "arn:aws:sns:us-east-1:111111111111:ops",
  InjectorConcurrency: "3",
  OptInTag: "platform/dns=on",
  TagPreFilter: "off",
};
const COMBOS: Array<[string, Params]> = [
  ["single account", SINGLE],
  ["single account, audit", AUDIT],
  ["organisation", ORG],
  ["organisation, audit", ORG_AUDIT],
  ["tuned (no sweep, tracing, role patterns, alert bus ARN)", TUNED],
  ["single account, enforcing", { EnforcerMode: "enforce" }],
  [
    "organisation, enforcing across the organisation, no stack checks",
    { ...ORG, EnforcerMode: "enforce", SweepAccounts: "ORGANIZATION", CheckStacks: "off" },
  ],
];

const resolveCentral = (params: Params): Resolved => resolveTemplate(central, params, CENTRAL);

const MEMBER_ACCOUNT = "222222222222";
const memberParams = (overrides: Params = {}): Params => ({
  CentralAccountId: CENTRAL.account,
  CentralEventBusArn: `arn:aws:events:us-east-1:${CENTRAL.account}:event-bus/dns-cache-ecs-events`,
  CentralInjectorRoleArn: `arn:aws:iam::${CENTRAL.account}:role/dns-cache-InjectorRole`,
  CentralHealthRoleArn: `arn:aws:iam::${CENTRAL.account}:role/dns-cache-HealthRole`,
  CentralEnforcerRoleArn: `arn:aws:iam::${CENTRAL.account}:role/dns-cache-EnforcerRole`,
  RoleRegion: "eu-west-1",
  ...overrides,
});
const resolveMember = (overrides: Params = {}, pseudo: Partial<Pseudo> = {}): Resolved =>
  resolveTemplate(member, memberParams(overrides), {
    account: MEMBER_ACCOUNT,
    region: "eu-west-1",
    partition: "aws",
    stackName: "StackSet-dns-cache-member",
    ...pseudo,
  });

function resource(r: Resolved, id: string): Resource {
  const found = r.resources[id];
  if (!found) throw new Error(`no resource ${id} (conditions: ${JSON.stringify(r.conditions)})`);
  return found;
}

function ofType(r: Resolved, type: string): Array<[string, Resource]> {
  return Object.entries(r.resources).filter(([, res]) => res.Type === type);
}

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const obj = (value: unknown): JsonObject => {
  if (!isObject(value)) throw new Error(`expected an object, got ${JSON.stringify(value)}`);
  return value;
};

// ------------------------------------------------------------------ the code's AWS calls

// Read from each file's syntax tree (test/helpers/sdk-calls.ts): every import form, every `new XCommand(`.
const sources = [
  ...readSources(fileURLToPath(ROOT), fileURLToPath(new URL("functions/", ROOT))),
  ...readSources(fileURLToPath(ROOT), fileURLToPath(new URL("shared/", ROOT))),
];

/** Every file a handler loads (through value imports). */
const reachable = (entry: string): SourceFile[] =>
  reachableFrom(sources, fileURLToPath(new URL(entry, ROOT)));

// Powertools Idempotency's DynamoDB layer sends its own commands, which our code never names: read them from
// the library (whichever version is installed), so a new call there shows up here as well.
const POWERTOOLS_DYNAMODB_LAYER = fileURLToPath(
  new URL(
    "node_modules/@aws-lambda-powertools/idempotency/lib/esm/persistence/DynamoDBPersistenceLayer.js",
    ROOT,
  ),
);
const powertoolsActions = sdkActions(
  POWERTOOLS_DYNAMODB_LAYER,
  readFileSync(POWERTOOLS_DYNAMODB_LAYER, "utf8"),
);

/** What a RegisterTaskDefinition call is also authorised for (Service Authorization Reference, Amazon ECS). */
const IMPLIED: Record<string, string[]> = {
  "ecs:RegisterTaskDefinition": ["ecs:TagResource", "iam:PassRole"],
};

interface Declared {
  action: string;
  /** Only for these parameter values; always when absent. */
  when?: (p: Resolved) => boolean;
}
const inject = (r: Resolved) => r.conditions.InjectMode === true;
const org = (r: Resolved) => r.conditions.OrgMode === true;
const sweepOn = (r: Resolved) => r.conditions.SweepOn === true;
const enforce = (r: Resolved) => r.conditions.EnforceMode === true;
const stackChecks = (r: Resolved) => r.conditions.StackChecks === true;
const sweepOrganization = (r: Resolved) => r.conditions.SweepOrganization === true;

/**
 * The calls each function makes, by configuration. The tests below hold this table to the code both ways:
 * every call declared is in the function's sources, and every SDK call in functions/ and shared/ is declared.
 */
const CALLS: Record<"injector" | "health" | "enforcer", Declared[]> = {
  enforcer: [
    { action: "ecs:DescribeServices" },
    { action: "ecs:ListClusters" },
    { action: "ecs:ListServices" },
    { action: "ecs:DescribeTaskDefinition" },
    { action: "cloudformation:DescribeStacks", when: stackChecks },
    // Writes, the shared copy path (register, settle gaps) and the guard and memory: enforce mode only.
    { action: "ecs:UpdateService", when: enforce },
    { action: "ecs:RegisterTaskDefinition", when: enforce },
    { action: "ecs:ListTaskDefinitions", when: enforce },
    { action: "ecs:DeregisterTaskDefinition", when: enforce },
    ...powertoolsActions.map((action) => ({ action, when: enforce })),
    { action: "events:PutEvents", when: enforce },
    { action: "sts:AssumeRole", when: org },
    { action: "organizations:ListAccounts", when: sweepOrganization },
  ],
  injector: [
    { action: "ecs:DescribeTaskDefinition" },
    { action: "ecs:RegisterTaskDefinition", when: inject },
    // settleGap: lists the family's revisions and removes its own when another was registered in between.
    { action: "ecs:ListTaskDefinitions", when: inject },
    { action: "ecs:DeregisterTaskDefinition", when: inject },
    // The duplicate guard (dynamoDbGuard) runs in inject mode only.
    ...powertoolsActions.map((action) => ({ action, when: inject })),
    { action: "sts:AssumeRole", when: org },
  ],
  health: [
    { action: "ecs:DescribeTasks" },
    { action: "events:PutEvents" },
    { action: "ecs:ListClusters", when: sweepOn },
    { action: "ecs:ListTasks", when: sweepOn },
    { action: "ecs:DescribeTaskDefinition", when: sweepOn },
    { action: "sts:AssumeRole", when: org },
    { action: "organizations:ListAccounts", when: (r) => sweepOn(r) && sweepOrganization(r) },
  ],
};
/** The calls made with a member account's credentials (through `ecsFor`): what the member role must allow. */
const MEMBER_CALLS = [
  "ecs:DescribeTaskDefinition",
  "ecs:ListTaskDefinitions",
  "ecs:RegisterTaskDefinition",
  "ecs:DeregisterTaskDefinition",
  "ecs:DescribeTasks",
  "ecs:DescribeServices",
  "ecs:ListClusters",
  "ecs:ListServices",
  "ecs:UpdateService",
  "cloudformation:DescribeStacks",
  // The health function's organisation sweep.
  "ecs:ListTasks",
];

const withImplied = (actions: Iterable<string>): Set<string> =>
  new Set([...actions].flatMap((a) => [a, ...(IMPLIED[a] ?? [])]));

/** What the Lambda service does with the function's role: logs, the SQS event source, tracing. */
function platformActions(r: Resolved): string[] {
  return [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    ...(r.conditions.TracingOn ? ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] : []),
  ];
}

// ------------------------------------------------------------------ IAM helpers

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition?: JsonObject;
  Principal?: Json;
}

function statementsOf(role: Resource): Statement[] {
  expect(role.Type).toBe("AWS::IAM::Role");
  expect(role.Properties.ManagedPolicyArns, "only inline policies, all checked here").toBeUndefined();
  return asList(role.Properties.Policies).flatMap((policy) =>
    asList(obj(obj(policy).PolicyDocument).Statement).map((s) => {
      const st = obj(s);
      const statement: Statement = {
        Effect: String(st.Effect),
        Action: asList(st.Action).map(String),
        Resource: asList(st.Resource).map(String),
      };
      if (typeof st.Sid === "string") statement.Sid = st.Sid;
      if (st.Condition !== undefined) statement.Condition = obj(st.Condition);
      return statement;
    }),
  );
}

const grantedActions = (statements: Statement[]) => new Set(statements.flatMap((s) => s.Action));
const sorted = (set: Iterable<string>) => [...set].sort();
const statementWith = (statements: Statement[], action: string): Statement => {
  const found = statements.filter((s) => s.Action.includes(action));
  expect(found, `one statement grants ${action}`).toHaveLength(1);
  return found[0] as Statement;
};

/**
 * Actions with no resource type in the Service Authorization Reference ("Actions, resources, and condition keys
 * for Amazon Elastic Container Service"; X-Ray's likewise): "*" is the only resource that lets the call through.
 */
const NO_RESOURCE_TYPE = new Set([
  "ecs:DescribeTaskDefinition",
  "ecs:ListTaskDefinitions",
  "ecs:DeregisterTaskDefinition",
  "ecs:ListClusters",
  // Condition key ecs:cluster only.
  "ecs:ListServices",
  "organizations:ListAccounts",
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
]);
/** Authorised on container instances, which a cluster-wide listing cannot name: "*" as well. */
const STAR_ALLOWED = new Set([...NO_RESOURCE_TYPE, "ecs:ListTasks"]);

function checkStatementHygiene(statements: Statement[], where: string): void {
  for (const s of statements) {
    expect(s.Effect, where).toBe("Allow");
    for (const action of s.Action)
      expect(action, `${where}: no wildcard actions`).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    for (const action of s.Action) {
      if (s.Resource.includes("*")) {
        expect(STAR_ALLOWED.has(action), `${where}: ${action} on "*" though it can be scoped`).toBe(true);
      }
      if (NO_RESOURCE_TYPE.has(action)) {
        expect(s.Resource, `${where}: ${action} has no resource type; an ARN would deny it`).toEqual(["*"]);
      }
    }
    if (s.Action.includes("iam:PassRole")) {
      expect(s.Action, `${where}: PassRole alone in its statement`).toEqual(["iam:PassRole"]);
      expect(s.Condition, `${where}: PassRole only to ECS tasks`).toEqual({
        StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
      });
      expect(s.Resource).not.toContain("*");
    }
    if (s.Action.includes("ecs:TagResource")) {
      expect(s.Action).toEqual(["ecs:TagResource"]);
      expect(s.Condition, `${where}: tags only while registering`).toEqual({
        StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" },
      });
    }
  }
}

function roleOfFunction(r: Resolved, functionId: string): [string, Resource] {
  const roleArn = resource(r, functionId).Properties.Role;
  const found = ofType(r, "AWS::IAM::Role").find(([id]) => r.getAtt(id, "Arn") === roleArn);
  if (!found) throw new Error(`${functionId}: its Role is not a role of the template`);
  return found;
}

// ------------------------------------------------------------------ sample events

function loadSample(name: string): JsonObject {
  return JSON.parse(readFileSync(new URL(`events/${name}`, ROOT), "utf8")) as JsonObject;
}
const sampleNames = readdirSync(new URL("events/", ROOT)).filter((n) => n.endsWith(".json"));
const clone = <T>(value: T): T => structuredClone(value);

/** What each rule must let through; every sample not named here must match no rule. */
const REGISTRATION_POSITIVE = ["register-tagged.json"];
const TASK_STATE_POSITIVE = ["task-state-change-running.json", "task-state-change-stopped-sidecar.json"];
// Named to record why they do not match.
const REGISTRATION_NEGATIVE: Record<string, string> = {
  "register-untagged.json": "no opt-in tag in the request: the registered revision has none",
  "register-failed.json": "the call failed (errorCode)",
  "register-by-injector.json": "the injector's own registration through a member role",
  "register-sqs.json": "an SQS batch, not an EventBridge event",
};
const TASK_STATE_NEGATIVE: Record<string, string> = {
  "task-state-change-other.json": "a task without the dns-cache container",
};

const DEPLOYMENT_POSITIVE = ["deployment-completed.json"];
const TAG_POSITIVE = ["tag-resource-opt-in.json"];
const DEPLOYMENT_NEGATIVE: Record<string, string> = {
  "deployment-in-progress.json": "a deployment still rolling out: only completed ones are acted on",
};

type RuleKind = "registration" | "task-state" | "deployment" | "tag";
function patternsOf(r: Resolved): Array<{ id: string; kind: RuleKind; pattern: JsonObject; bus: string }> {
  return ofType(r, "AWS::Events::Rule")
    .filter(([, rule]) => rule.Properties.EventPattern !== undefined)
    .map(([id, rule]) => {
      const pattern = obj(rule.Properties.EventPattern);
      const detailType = asList(pattern["detail-type"]);
      const eventName = asList(obj(pattern.detail).eventName);
      const kind: RuleKind = detailType.includes("ECS Task State Change")
        ? "task-state"
        : detailType.includes("ECS Deployment State Change")
          ? "deployment"
          : eventName.includes("TagResource")
            ? "tag"
            : "registration";
      return { id, kind, pattern, bus: String(rule.Properties.EventBusName ?? "default") };
    });
}

/** Must match: in the stricter mode. Must not: in the looser one. Then EventBridge agrees either way. */
function expectMatch(pattern: JsonObject, event: unknown, expected: boolean, why: string): void {
  const mode: ArrayMode = expected ? "consistent" : "flattened";
  expect(matchesPattern(pattern, event, mode), why).toBe(expected);
}

// ==================================================================== tests

describe("templates", () => {
  it("the central template is SAM; the member template plain CloudFormation (StackSets run no macros)", () => {
    expect(central.Transform).toBe("AWS::Serverless-2016-10-31");
    expect(member.Transform).toBeUndefined();
    const types = Object.values(obj(member.Resources)).map((r) => String(obj(r).Type));
    for (const type of types) expect(type).toMatch(/^AWS::(?!Serverless::)/);
    expect(JSON.stringify(member)).not.toMatch(/Fn::Transform|AWS::Include/);
  });

  it.each(COMBOS)(
    "resolves for %s: the resources its conditions select, every intrinsic evaluated",
    (_, params) => {
      const r = resolveCentral(params);
      const declared = Object.entries(obj(central.Resources)).map(
        ([id, res]) => [id, obj(res).Condition] as const,
      );
      const selected = declared.filter(([, c]) => c === undefined || r.conditions[String(c)] === true);
      expect(Object.keys(r.resources).sort()).toEqual(selected.map(([id]) => id).sort());
      const leftovers: string[] = [];
      const walk = (value: unknown, path: string): void => {
        if (Array.isArray(value)) {
          for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`);
        } else if (isObject(value)) {
          for (const [k, v] of Object.entries(value)) {
            if (k === "Ref" || k.startsWith("Fn::")) leftovers.push(`${path}.${k}`);
            walk(v, `${path}.${k}`);
          }
        }
      };
      for (const [id, res] of Object.entries(r.resources)) walk(res.Properties, id);
      walk(r.outputs, "Outputs");
      expect(leftovers).toEqual([]);
      for (const [id, res] of Object.entries(r.resources)) {
        for (const dep of asList((res as { DependsOn?: unknown }).DependsOn)) {
          expect(r.resources, `${id} depends on ${String(dep)}`).toHaveProperty(String(dep));
        }
      }
    },
  );

  it("switches resources on and off with its parameters", () => {
    const ids = (params: Params) => new Set(Object.keys(resolveCentral(params).resources));
    const single = ids(SINGLE);
    const org = ids(ORG);
    const noSweep = ids({ SweepSchedule: "off" });
    expect([...org].filter((id) => !single.has(id)).length).toBeGreaterThan(0);
    expect([...single].filter((id) => !noSweep.has(id)).length).toBeGreaterThan(0);
  });

  it("exposes function names, queue URLs, the roles and (organisation mode) the central bus ARN", () => {
    const single = resolveCentral(SINGLE);
    expect(single.outputs).toMatchObject({
      InjectorFunctionName: single.ref("InjectorFunction"),
      HealthFunctionName: single.ref("HealthFunction"),
      InjectorQueueUrl: single.ref("InjectorQueue"),
      InjectorDeadLetterQueueUrl: single.ref("InjectorDeadLetterQueue"),
      HealthQueueUrl: single.ref("HealthQueue"),
      HealthDeadLetterQueueUrl: single.ref("HealthDeadLetterQueue"),
      InjectorRoleArn: single.getAtt("InjectorRole", "Arn"),
      HealthRoleArn: single.getAtt("HealthRole", "Arn"),
    });
    expect(single.outputs.InjectorQueueUrl).toMatch(/^https:\/\/sqs\./);
    expect(single.outputs.CentralEventBusArn).toBeUndefined();
    const organisation = resolveCentral(ORG);
    expect(organisation.outputs.CentralEventBusArn).toBe(organisation.getAtt("CentralEventBus", "Arn"));
  });
});

describe("functions", () => {
  const r = resolveCentral(SINGLE);
  const functions = ofType(r, "AWS::Serverless::Function");
  const globals = obj(r.globals.Function);
  let outdir = "";
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), "dns-cache-sam-build-"));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  /** functions/<name>/handler.ts of a <Name>Function: the Makefile's build-%Function rule lower-cases the stem. */
  const sourceName = (id: string) => id.replace(/Function$/, "").toLowerCase();

  it("are every functions/<name>/handler.ts, each as <Name>Function", () => {
    expect(functions.map(([id]) => sourceName(id)).sort()).toEqual(functionNames());
  });

  it.each(functions)("%s: nodejs24.x on arm64, built by the Makefile with scripts/build.mjs", (id, fn) => {
    const props = { ...globals, ...fn.Properties };
    expect(props.Runtime).toBe("nodejs24.x");
    expect(props.Architectures).toEqual(["arm64"]);
    // sam build runs `make build-<LogicalId>` in (a copy of) CodeUri, the project root.
    expect(fn.Metadata?.BuildMethod).toBe("makefile");
    expect(fn.Metadata?.BuildProperties).toBeUndefined();
    const codeUri = new URL(`${String(props.CodeUri).replace(/\/?$/, "/")}`, INFRA);
    expect(codeUri.href, `${id}: CodeUri is the project root`).toBe(ROOT.href);
    expect(readFileSync(new URL("Makefile", codeUri), "utf8")).toMatch(
      /^build-%Function:\n(?:\t.*\n)*\tnode scripts\/build\.mjs --function .*--outdir "\$\(ARTIFACTS_DIR\)"$/m,
    );
    expect(props.Handler).toBe(HANDLER);
    const entry = new URL(`functions/${sourceName(id)}/handler.ts`, ROOT);
    expect(readFileSync(entry, "utf8")).toMatch(/^export const handler\b/m);
    // Source maps would be parsed at every cold start.
    expect(JSON.stringify(props.Environment ?? {})).not.toContain("enable-source-maps");
  });

  // Packaging, not logic: left out of mutation runs (vitest.mutation.config.ts).
  it.skipIf(process.env.DNS_CACHE_MUTATION_RUN).each(functions)(
    "%s: sam build's artifact is byte for byte what npm run bench measures, and has the handler where Lambda looks",
    async (id, fn) => {
      const props = { ...globals, ...fn.Properties };
      const artifact = join(outdir, id, "sam");
      const measured = join(outdir, id, "bench");
      execFileSync("make", ["--no-print-directory", `build-${id}`, `ARTIFACTS_DIR=${artifact}`], {
        cwd: fileURLToPath(ROOT),
        stdio: "pipe",
      });
      // npm run bench builds dist/ with buildAll(), which calls this for each function.
      await buildFunction(sourceName(id), measured, join(outdir, id, "maps"));
      const files = (dir: string) => readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
      expect(files(artifact)).toEqual(files(measured));
      expect(
        files(artifact).filter((f) => f.endsWith(".map")),
        "no source maps in the artifact",
      ).toEqual([]);
      for (const file of files(measured)) {
        if (!file.endsWith(".mjs")) continue;
        expect(readFileSync(join(artifact, file)).equals(readFileSync(join(measured, file))), file).toBe(
          true,
        );
      }
      // It loads, with the template's environment, and exports the handler.
      const handler = String(props.Handler);
      const bundle = join(artifact, `${handler.slice(0, handler.lastIndexOf("."))}.mjs`);
      const env = obj(obj(props.Environment).Variables);
      const saved = { ...process.env };
      Object.assign(process.env, env, { AWS_REGION: CENTRAL.region });
      try {
        const mod = (await import(bundle)) as Record<string, unknown>;
        expect(typeof mod[handler.slice(handler.lastIndexOf(".") + 1)]).toBe("function");
      } finally {
        for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
        Object.assign(process.env, saved);
      }
    },
    60_000,
  );

  it.each(functions)("%s: logs to its own log group, with retention", (id, fn) => {
    const group = fn.Properties.LoggingConfig;
    const [logGroupId] =
      ofType(r, "AWS::Logs::LogGroup").find(([gid]) => r.ref(gid) === obj(group).LogGroup) ?? [];
    expect(logGroupId, `${id}: LoggingConfig.LogGroup is a log group of the template`).toBeDefined();
    expect(resource(r, logGroupId as string).Properties.RetentionInDays).toBe("30");
    expect(
      resolveCentral({ LogRetentionDays: "90" }).resources[logGroupId as string]?.Properties.RetentionInDays,
    ).toBe("90");
  });

  it("set Powertools' service name (as the code names it) and the metrics namespace", () => {
    const services = {
      InjectorFunction: "dns-cache-injector",
      HealthFunction: "dns-cache-health",
      EnforcerFunction: "dns-cache-enforcer",
    } as const;
    for (const [id, service] of Object.entries(services)) {
      const env = obj(obj(resource(r, id).Properties.Environment).Variables);
      expect(env.POWERTOOLS_SERVICE_NAME).toBe(service);
      expect(env.POWERTOOLS_METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
      const entry = `functions/${id.replace(/Function$/, "").toLowerCase()}/handler.ts`;
      expect(readFileSync(new URL(entry, ROOT), "utf8")).toContain(`"${service}"`);
    }
  });

  it("trace with X-Ray only when asked to", () => {
    expect(globals.Tracing).toBe("PassThrough");
    expect(obj(resolveCentral({ EnableTracing: "true" }).globals.Function).Tracing).toBe("Active");
  });

  describe.each(COMBOS)("environment (%s)", (_, params) => {
    const rc = resolveCentral(params);
    const injectorEnv = obj(obj(resource(rc, "InjectorFunction").Properties.Environment).Variables) as Record<
      string,
      string
    >;
    const healthEnv = obj(obj(resource(rc, "HealthFunction").Properties.Environment).Variables) as Record<
      string,
      string
    >;

    it("is accepted by the functions' configuration loaders", () => {
      const injector = loadInjectorConfig(injectorEnv);
      expect(injector.mode).toBe(params.Mode ?? "inject");
      expect(`${injector.optIn.key}=${injector.optIn.value}`).toBe(params.OptInTag ?? "dns-cache=enabled");
      if (injector.mode === "inject") expect(injector.idempotencyTable).toBe(rc.ref("IdempotencyTable"));
      const health = loadHealthConfig(healthEnv);
      expect(health.sweep).toBe(rc.conditions.SweepOn);
      expect(health.alertBus).toBe(params.AlertEventBus ?? "default");
      expect(health.optIn).toEqual(injector.optIn);
    });

    it("names only variables the code reads", () => {
      const known = new Set([
        ...sources.flatMap((s) =>
          [...s.text.matchAll(/\b(DNS_CACHE_[A-Z_]+)\b/g)].map((m) => m[1] as string),
        ),
        ...OPTION_SPECS.map(envNameOf),
      ]);
      for (const name of [...Object.keys(injectorEnv), ...Object.keys(healthEnv)]) {
        if (name.startsWith("DNS_CACHE_")) expect(known, name).toContain(name);
        else expect(name).toMatch(/^(POWERTOOLS_|NODE_OPTIONS$)/);
      }
    });

    it("switches organisation mode on and off for both functions alike", () => {
      for (const env of [injectorEnv, healthEnv]) {
        if (org(rc)) {
          expect(env.DNS_CACHE_MEMBER_ROLE_NAME).toBe("dns-cache-member");
          expect(env.DNS_CACHE_CENTRAL_ACCOUNT).toBe(CENTRAL.account);
        } else {
          expect(env.DNS_CACHE_MEMBER_ROLE_NAME).toBeUndefined();
        }
        // With this environment, the client provider assumes no role in single-account mode.
        const made: Array<[string | undefined, boolean]> = [];
        const ecsFor = clientProvider(env, (region, credentials) => {
          made.push([region, credentials !== undefined]);
          return made.length;
        });
        ecsFor({ account: MEMBER_ACCOUNT, region: "eu-west-1" });
        ecsFor({ account: CENTRAL.account, region: "us-east-1" });
        expect(made).toEqual(
          org(rc)
            ? [
                ["eu-west-1", true],
                ["us-east-1", false],
              ]
            : [[undefined, false]],
        );
      }
    });
  });
});

describe("the injector's trigger", () => {
  const r = resolveCentral(SINGLE);
  const fn = resource(r, "InjectorFunction");
  const queueArn = r.getAtt("InjectorQueue", "Arn");
  const dlqArn = r.getAtt("InjectorDeadLetterQueue", "Arn");

  it("is the registration rule, delivering to the SQS buffer (failed deliveries to the DLQ)", () => {
    const rule = resource(r, "RegistrationRule");
    expect(rule.Properties.State).toBe("ENABLED");
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.Targets).toEqual([
      { Id: "injector-queue", Arn: queueArn, DeadLetterConfig: { Arn: dlqArn } },
    ]);
  });

  it("drains the queue with bounded concurrency, in small batches, reporting partial failures", () => {
    const events = Object.values(obj(fn.Properties.Events)).map(obj);
    expect(events).toHaveLength(1);
    const [source] = events as [JsonObject];
    expect(source.Type).toBe("SQS");
    const props = obj(source.Properties);
    expect(props.Queue).toBe(queueArn);
    expect(props.FunctionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(obj(props.ScalingConfig).MaximumConcurrency).toBe("2");
    expect(Number(props.BatchSize)).toBeLessThanOrEqual(10);
    const tuned = resolveCentral(TUNED);
    const tunedEvents = Object.values(obj(resource(tuned, "InjectorFunction").Properties.Events)).map(obj);
    expect(obj(obj(tunedEvents[0]?.Properties).ScalingConfig).MaximumConcurrency).toBe("3");
  });

  it("sends what keeps failing to a dead-letter queue, as the original message", () => {
    const queue = resource(r, "InjectorQueue").Properties;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 });
    // Lambda's advice for SQS sources: a visibility timeout of six times the function timeout.
    expect(Number(queue.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * Number(fn.Properties.Timeout));
    // Redrive keeps the message's first enqueue time: the DLQ must keep messages longer (default 4 days).
    const dlq = resource(r, "InjectorDeadLetterQueue").Properties;
    expect(Number(dlq.MessageRetentionPeriod)).toBeGreaterThan(
      Number(queue.MessageRetentionPeriod ?? 345600),
    );
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });

  it.each([
    ["single account", SINGLE, ["RegistrationRule"]],
    ["organisation", ORG, ["RegistrationRule", "OrgRegistrationRule"]],
  ])("accepts messages from its rules only (%s)", (_, params, rules) => {
    const rc = resolveCentral(params);
    const statements = asList(
      obj(resource(rc, "InjectorQueuePolicy").Properties.PolicyDocument).Statement,
    ).map(obj);
    expect(statements).toEqual([
      {
        Sid: "RegistrationRules",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: [rc.getAtt("InjectorQueue", "Arn"), rc.getAtt("InjectorDeadLetterQueue", "Arn")],
        Condition: { ArnEquals: { "aws:SourceArn": rules.map((id) => rc.getAtt(id, "Arn")) } },
      },
    ]);
  });

  it("keeps the duplicate guard's records in a table with the key and TTL Powertools uses", () => {
    const table = resource(r, "IdempotencyTable").Properties;
    const layer = new DynamoDBPersistenceLayer({ tableName: "t" }) as unknown as Record<string, unknown>;
    expect(table.KeySchema).toEqual([{ AttributeName: layer.keyAttr, KeyType: "HASH" }]);
    expect(table.AttributeDefinitions).toEqual([{ AttributeName: layer.keyAttr, AttributeType: "S" }]);
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: layer.expiryAttr, Enabled: true });
    expect(layer.keyAttr).toBe("id");
    expect(layer.expiryAttr).toBe("expiration");
    expect(table.BillingMode).toBe("PAY_PER_REQUEST");
  });
});

describe("the health function's triggers", () => {
  it("are the Task State Change rule (through a queue with a DLQ) and the sweep schedule", () => {
    const r = resolveCentral(SINGLE);
    const rule = resource(r, "TaskStateChangeRule");
    expect(rule.Properties.Targets).toEqual([
      {
        Id: "health-queue",
        Arn: r.getAtt("HealthQueue", "Arn"),
        DeadLetterConfig: { Arn: r.getAtt("HealthDeadLetterQueue", "Arn") },
      },
    ]);
    expect(resource(r, "HealthQueue").Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: r.getAtt("HealthDeadLetterQueue", "Arn"),
      maxReceiveCount: 3,
    });
    const fn = resource(r, "HealthFunction");
    const [source] = Object.values(obj(fn.Properties.Events)).map(obj);
    expect(source?.Type).toBe("SQS");
    expect(obj(source?.Properties).Queue).toBe(r.getAtt("HealthQueue", "Arn"));
    expect(Number(resource(r, "HealthQueue").Properties.VisibilityTimeout)).toBeGreaterThanOrEqual(
      6 * Number(fn.Properties.Timeout),
    );
    const sweep = resource(r, "SweepRule").Properties;
    expect(sweep.ScheduleExpression).toBe("rate(15 minutes)");
    expect(sweep.Targets).toEqual([{ Id: "health-function", Arn: r.getAtt("HealthFunction", "Arn") }]);
    expect(resource(r, "SweepPermission").Properties).toEqual({
      Action: "lambda:InvokeFunction",
      FunctionName: r.getAtt("HealthFunction", "Arn"),
      Principal: "events.amazonaws.com",
      SourceArn: r.getAtt("SweepRule", "Arn"),
    });
  });

  it("has no schedule when the sweep is off", () => {
    const r = resolveCentral({ SweepSchedule: "off" });
    expect(r.resources.SweepRule).toBeUndefined();
    expect(r.resources.SweepPermission).toBeUndefined();
    const cron = resolveCentral({ SweepSchedule: "cron(0/10 * * * ? *)" });
    expect(resource(cron, "SweepRule").Properties.ScheduleExpression).toBe("cron(0/10 * * * ? *)");
  });

  it("the schedule's sample is a Scheduled Event the health function recognises", () => {
    expect(isScheduledEvent(loadSample("scheduled-sweep.json"))).toBe(true);
  });
});

describe("event patterns", () => {
  const resolvedSets: Array<[string, Resolved]> = [
    ["central, single account", resolveCentral(SINGLE)],
    ["central, organisation", resolveCentral(ORG)],
    ["member account", resolveMember()],
  ];
  const all = resolvedSets.flatMap(([where, r]) => patternsOf(r).map((p) => ({ ...p, where, r })));
  const registration = all.filter((p) => p.kind === "registration");
  const taskState = all.filter((p) => p.kind === "task-state");

  it("cover both kinds on every bus: default and central bus in the central stack, and the member's", () => {
    expect(registration.map((p) => `${p.where}: ${p.id}`)).toEqual([
      "central, single account: RegistrationRule",
      "central, organisation: RegistrationRule",
      "central, organisation: OrgRegistrationRule",
      "member account: RegistrationForwardRule",
    ]);
    expect(taskState).toHaveLength(4);
    const orgRules = all.filter((p) => p.where === "central, organisation" && p.id.startsWith("Org"));
    for (const p of orgRules) expect(p.bus).toBe(p.r.ref("CentralEventBus"));
  });

  it("send completed deployments and opt-in tags to the enforcer on every bus", () => {
    const of = (kind: RuleKind) => all.filter((p) => p.kind === kind).map((p) => `${p.where}: ${p.id}`);
    expect(of("deployment")).toEqual([
      "central, single account: DeploymentRule",
      "central, organisation: DeploymentRule",
      "central, organisation: OrgDeploymentRule",
      "member account: DeploymentForwardRule",
    ]);
    expect(of("tag")).toEqual([
      "central, single account: TagResourceRule",
      "central, organisation: TagResourceRule",
      "central, organisation: OrgTagResourceRule",
      "member account: TagResourceForwardRule",
    ]);
  });

  it("with OptInScope=all, pass every registration (the tag pre-filter is off)", () => {
    const r = resolveCentral({ OptInScope: "all" });
    const rule = patternsOf(r).find((p) => p.id === "RegistrationRule");
    expect(matchesPattern(rule?.pattern ?? {}, loadSample("register-untagged.json"), "consistent")).toBe(
      true,
    );
    const m = patternsOf(resolveMember({ OptInScope: "all" })).find(
      (p) => p.id === "RegistrationForwardRule",
    );
    expect(matchesPattern(m?.pattern ?? {}, loadSample("register-untagged.json"), "consistent")).toBe(true);
  });

  it("fit in an EventBridge rule and use only operators EventBridge supports", () => {
    for (const p of all) {
      expect(JSON.stringify(p.pattern).length).toBeLessThanOrEqual(4096);
      expect(() => matchesPattern(p.pattern, {})).not.toThrow();
    }
  });

  it("every sample is accounted for", () => {
    const named = new Set([
      ...REGISTRATION_POSITIVE,
      ...TASK_STATE_POSITIVE,
      ...Object.keys(REGISTRATION_NEGATIVE),
      ...Object.keys(TASK_STATE_NEGATIVE),
      ...DEPLOYMENT_POSITIVE,
      ...TAG_POSITIVE,
      ...Object.keys(DEPLOYMENT_NEGATIVE),
      "scheduled-sweep.json",
    ]);
    for (const name of sampleNames) expect(named, `classify events/${name} in this test`).toContain(name);
  });

  describe.each(sampleNames)("events/%s", (name) => {
    const event = loadSample(name);
    it.each(all.map((p) => [`${p.where}: ${p.id}`, p] as const))("%s", (_, p) => {
      const positive = {
        registration: REGISTRATION_POSITIVE,
        "task-state": TASK_STATE_POSITIVE,
        deployment: DEPLOYMENT_POSITIVE,
        tag: TAG_POSITIVE,
      }[p.kind].includes(name);
      const why =
        REGISTRATION_NEGATIVE[name] ??
        TASK_STATE_NEGATIVE[name] ??
        DEPLOYMENT_NEGATIVE[name] ??
        (positive ? "a positive sample" : "another kind");
      expectMatch(p.pattern, event, positive, why);
    });
  });

  describe("registrations", () => {
    const tagged = loadSample("register-tagged.json");
    const withIdentity = (identity: JsonObject | undefined): JsonObject => {
      const event = clone(tagged);
      const detail = obj(event.detail);
      if (identity === undefined) delete detail.userIdentity;
      else detail.userIdentity = identity;
      return event;
    };
    const withTags = (tags: Array<{ key: string; value: string }>): JsonObject => {
      const event = clone(tagged);
      obj(obj(event.detail).requestParameters).tags = tags;
      return event;
    };

    it("use the opt-in tag, the injector's session name and ECS's names as the code does", () => {
      const { optIn } = loadInjectorConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: "t" });
      for (const p of registration) {
        const detail = obj(p.pattern.detail);
        expect(obj(detail.requestParameters).tags).toEqual({ key: [optIn.key], value: [optIn.value] });
        expect(JSON.stringify(detail.userIdentity)).toContain(`":${INJECTOR_SESSION_NAME}"`);
        expect(detail.eventName).toEqual(["RegisterTaskDefinition"]);
      }
      for (const p of taskState) {
        expect(obj(obj(p.pattern.detail).containers).name).toEqual([CACHE_CONTAINER]);
      }
    });

    it("follow the OptInTag parameter", () => {
      const r = resolveCentral({ OptInTag: "platform/dns=on" });
      const [rule] = patternsOf(r).filter((p) => p.kind === "registration");
      const event = withTags([{ key: "platform/dns", value: "on" }]);
      expectMatch(obj(rule?.pattern), event, true, "custom opt-in tag");
      expectMatch(obj(rule?.pattern), tagged, false, "the default tag is not the configured one");
      const m = patternsOf(resolveMember({ OptInTag: "platform/dns=on" })).filter(
        (p) => p.kind === "registration",
      );
      expectMatch(obj(m[0]?.pattern), event, true, "custom opt-in tag, member account");
    });

    it("with TagPreFilter off, pass every successful registration but the injector's own", () => {
      const sets = [
        resolveCentral({ TagPreFilter: "off" }),
        resolveCentral({ ...ORG, TagPreFilter: "off" }),
        resolveMember({ TagPreFilter: "off" }),
      ];
      const unfiltered = sets.flatMap((r) => patternsOf(r).filter((p) => p.kind === "registration"));
      expect(unfiltered).toHaveLength(4);
      const noRequest = clone(tagged);
      delete obj(noRequest.detail).requestParameters;
      for (const p of unfiltered) {
        expect(obj(p.pattern.detail).requestParameters).toBeUndefined();
        expectMatch(p.pattern, loadSample("register-untagged.json"), true, "untagged");
        expectMatch(p.pattern, tagged, true, "tagged");
        expectMatch(p.pattern, noRequest, true, "no requestParameters");
        expectMatch(p.pattern, loadSample("register-failed.json"), false, "failed");
        expectMatch(p.pattern, loadSample("register-by-injector.json"), false, "the injector's own");
      }
    });

    it("let through callers of every kind: IAM users, root, roles, services without principalId or arn", () => {
      const identities: Array<[string, JsonObject | undefined]> = [
        [
          "IAM user",
          { type: "IAMUser", principalId: "AIDAEXAMPLE", arn: "arn:aws:iam::123456789012:user/alice" },
        ],
        ["root", { type: "Root", principalId: "123456789012", arn: "arn:aws:iam::123456789012:root" }],
        ["AWS service", { type: "AWSService", invokedBy: "ecs.amazonaws.com" }],
        ["principalId only", { type: "AWSAccount", principalId: "AIDAEXAMPLE" }],
        ["arn only", { type: "Unknown", arn: "arn:aws:sts::123456789012:assumed-role/deploy/x" }],
        ["no identity", undefined],
      ];
      for (const p of registration) {
        for (const [who, identity] of identities) expectMatch(p.pattern, withIdentity(identity), true, who);
      }
    });

    it("leave out the injector's own registrations, in the central account and through member roles", () => {
      for (const p of registration) {
        const viaMemberRole = withIdentity({
          type: "AssumedRole",
          principalId: `AROAEXAMPLE:${INJECTOR_SESSION_NAME}`,
          arn: `arn:aws:sts::222222222222:assumed-role/dns-cache-member/${INJECTOR_SESSION_NAME}`,
        });
        expectMatch(p.pattern, viaMemberRole, false, "member role session");
        if (p.where === "member account") continue;
        const functionName = p.r.ref("InjectorFunction");
        const own = withIdentity({
          type: "AssumedRole",
          principalId: `${p.r.getAtt("InjectorRole", "RoleId")}:${functionName}`,
          arn: `arn:aws:sts::${CENTRAL.account}:assumed-role/${p.r.ref("InjectorRole")}/${functionName}`,
        });
        expectMatch(p.pattern, own, false, "the function's own role in the central account");
        // Another role's session that happens to share the function's name is still let through.
        const other = withIdentity({
          type: "AssumedRole",
          principalId: `AROAOTHER:${functionName}`,
          arn: `arn:aws:sts::${CENTRAL.account}:assumed-role/deploy/${functionName}`,
        });
        expectMatch(p.pattern, other, true, "someone else's role");
      }
    });

    it("never drop a request that carries the opt-in tag, wherever it is among the tags", () => {
      const tag = fc.record({
        key: fc.string({ minLength: 1, maxLength: 12 }),
        value: fc.string({ maxLength: 12 }),
      });
      fc.assert(
        fc.property(fc.array(tag, { maxLength: 8 }), fc.nat(8), (others, at) => {
          const tags = [...others];
          tags.splice(Math.min(at, tags.length), 0, { key: "dns-cache", value: "enabled" });
          for (const p of registration) expectMatch(p.pattern, withTags(tags), true, JSON.stringify(tags));
        }),
      );
    });

    it("drop requests without the opt-in key, and may let through key and value of two tags (the handler re-checks)", () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              key: fc.string({ maxLength: 12 }).filter((k) => k !== "dns-cache"),
              value: fc.constantFrom("enabled", "disabled", "x"),
            }),
            { maxLength: 8 },
          ),
          (tags) => {
            for (const p of registration) expectMatch(p.pattern, withTags(tags), false, JSON.stringify(tags));
          },
        ),
      );
      const split = withTags([
        { key: "dns-cache", value: "disabled" },
        { key: "team", value: "enabled" },
      ]);
      for (const p of registration) {
        expect(matchesPattern(p.pattern, split, "consistent")).toBe(false);
        expect(matchesPattern(p.pattern, split, "flattened")).toBe(true);
      }
    });
  });

  describe("task state changes", () => {
    const running = loadSample("task-state-change-running.json");

    it("only of running tasks", () => {
      for (const status of ["PROVISIONING", "PENDING", "DEACTIVATING", "STOPPING", "STOPPED"]) {
        const event = clone(running);
        obj(event.detail).lastStatus = status;
        for (const p of taskState) expectMatch(p.pattern, event, false, status);
      }
    });

    it("with the dns-cache container anywhere among the containers", () => {
      const event = clone(running);
      const detail = obj(event.detail);
      detail.containers = asList(detail.containers).reverse() as Json[];
      for (const p of taskState) expectMatch(p.pattern, event, true, "reordered containers");
      detail.containers = asList(detail.containers).filter((c) => obj(c).name !== CACHE_CONTAINER) as Json[];
      for (const p of taskState) expectMatch(p.pattern, event, false, "no sidecar (dns-cache-init alone)");
    });
  });

  it("are the same in the member account as in the central stack, less the central account's own role", () => {
    const c = patternsOf(resolveCentral(ORG));
    const m = patternsOf(resolveMember());
    const centralRegistration = clone(obj(c.find((p) => p.id === "OrgRegistrationRule")?.pattern));
    delete obj(centralRegistration.detail).$or;
    expect(m.find((p) => p.kind === "registration")?.pattern).toEqual(centralRegistration);
    expect(m.find((p) => p.kind === "task-state")?.pattern).toEqual(
      c.find((p) => p.id === "OrgTaskStateChangeRule")?.pattern,
    );
    expect(c.find((p) => p.id === "RegistrationRule")?.pattern).toEqual(
      c.find((p) => p.id === "OrgRegistrationRule")?.pattern,
    );
  });
});

describe("least privilege", () => {
  const injectorSources = reachable("functions/injector/handler.ts");
  const healthSources = reachable("functions/health/handler.ts");
  const enforcerSources = reachable("functions/enforcer/handler.ts");
  const reachableActions = (files: SourceFile[]) => {
    const actions = new Set(files.flatMap((f) => f.actions));
    if (files.some((f) => f.text.includes("@aws-lambda-powertools/idempotency/dynamodb"))) {
      for (const a of powertoolsActions) actions.add(a);
    }
    return actions;
  };

  it("the declared calls are the code's: each in its function's sources, and none undeclared", () => {
    expect(powertoolsActions.sort()).toEqual([
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
    ]);
    const injector = reachableActions(injectorSources);
    const health = reachableActions(healthSources);
    const enforcer = reachableActions(enforcerSources);
    for (const { action } of CALLS.injector) expect(injector, `injector calls ${action}`).toContain(action);
    for (const { action } of CALLS.health) expect(health, `health calls ${action}`).toContain(action);
    for (const { action } of CALLS.enforcer) expect(enforcer, `enforcer calls ${action}`).toContain(action);
    for (const action of MEMBER_CALLS)
      expect(new Set([...injector, ...health, ...enforcer])).toContain(action);
    const declared = new Set([...CALLS.injector, ...CALLS.health, ...CALLS.enforcer].map((d) => d.action));
    for (const file of sources) {
      for (const action of file.actions) {
        expect(declared, `${file.path} sends ${action}: grant it in infra/ and declare it here`).toContain(
          action,
        );
      }
    }
  });

  describe.each(COMBOS)("%s", (_, params) => {
    const r = resolveCentral(params);

    it.each([
      ["InjectorFunction", "injector"],
      ["HealthFunction", "health"],
      ["EnforcerFunction", "enforcer"],
    ] as const)("%s's role grants exactly what it calls", (functionId, name) => {
      const [roleId, role] = roleOfFunction(r, functionId);
      const statements = statementsOf(role);
      checkStatementHygiene(statements, roleId);
      const calls = CALLS[name].filter((d) => d.when?.(r) ?? true).map((d) => d.action);
      const expected = new Set([...withImplied(calls), ...platformActions(r)]);
      expect(sorted(grantedActions(statements))).toEqual(sorted(expected));
      expect(role.Properties.AssumeRolePolicyDocument).toEqual({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      });
    });

    it("scopes every resource that can be scoped", () => {
      const { account, partition } = CENTRAL;
      const injector = statementsOf(roleOfFunction(r, "InjectorFunction")[1]);
      const health = statementsOf(roleOfFunction(r, "HealthFunction")[1]);
      expect(statementWith(injector, "logs:PutLogEvents").Resource).toEqual([
        r.getAtt("InjectorLogGroup", "Arn"),
      ]);
      expect(statementWith(health, "logs:PutLogEvents").Resource).toEqual([
        r.getAtt("HealthLogGroup", "Arn"),
      ]);
      expect(statementWith(injector, "sqs:ReceiveMessage").Resource).toEqual([
        r.getAtt("InjectorQueue", "Arn"),
      ]);
      expect(statementWith(health, "sqs:ReceiveMessage").Resource).toEqual([r.getAtt("HealthQueue", "Arn")]);
      expect(statementWith(health, "ecs:DescribeTasks").Resource).toEqual([
        `arn:${partition}:ecs:*:${account}:task/*`,
      ]);
      const bus = String(r.parameters.AlertEventBus);
      expect(statementWith(health, "events:PutEvents").Resource).toEqual([
        bus.startsWith("arn:")
          ? bus
          : `arn:${partition}:events:${CENTRAL.region}:${account}:event-bus/${bus}`,
      ]);
      if (inject(r)) {
        expect(statementWith(injector, "dynamodb:PutItem").Resource).toEqual([
          r.getAtt("IdempotencyTable", "Arn"),
        ]);
        for (const action of ["ecs:RegisterTaskDefinition", "ecs:TagResource"]) {
          expect(statementWith(injector, action).Resource).toEqual([
            `arn:${partition}:ecs:*:${account}:task-definition/*`,
          ]);
        }
        const passRole = statementWith(injector, "iam:PassRole").Resource;
        const patterns = asList(r.parameters.PassRoleArns).filter((p) => p !== "");
        expect(passRole).toEqual(
          patterns.length > 0 ? patterns : [`arn:${partition}:iam::${account}:role/*`],
        );
      }
      const enforcer = statementsOf(roleOfFunction(r, "EnforcerFunction")[1]);
      expect(statementWith(enforcer, "ecs:DescribeServices").Resource).toEqual([
        `arn:${partition}:ecs:*:${account}:service/*/*`,
      ]);
      if (enforce(r)) {
        expect(statementWith(enforcer, "ecs:UpdateService").Resource).toEqual([
          `arn:${partition}:ecs:*:${account}:service/*/*`,
        ]);
        expect(statementWith(enforcer, "dynamodb:PutItem").Resource).toEqual([
          r.getAtt("IdempotencyTable", "Arn"),
        ]);
      }
      if (org(r)) {
        for (const statements of [injector, health, enforcer]) {
          expect(statementWith(statements, "sts:AssumeRole").Resource).toEqual([
            `arn:${partition}:iam::*:role/${String(r.parameters.MemberRoleName)}`,
          ]);
        }
      }
    });
  });

  describe("organisation mode", () => {
    it("creates the central bus, open to the organisation only, and rules on it; single-account mode none of it", () => {
      const single = resolveCentral(SINGLE);
      for (const id of [
        "CentralEventBus",
        "CentralEventBusPolicy",
        "OrgRegistrationRule",
        "OrgTaskStateChangeRule",
      ]) {
        expect(single.resources[id], id).toBeUndefined();
      }
      const r = resolveCentral(ORG);
      const policy = resource(r, "CentralEventBusPolicy").Properties;
      expect(policy.EventBusName).toBe(r.ref("CentralEventBus"));
      expect(policy.Statement).toEqual({
        Effect: "Allow",
        Principal: "*",
        Action: "events:PutEvents",
        Resource: r.getAtt("CentralEventBus", "Arn"),
        Condition: { StringEquals: { "aws:PrincipalOrgID": ORG_ID } },
      });
      for (const id of ["OrgRegistrationRule", "OrgTaskStateChangeRule"]) {
        expect(resource(r, id).Properties.EventBusName).toBe(r.ref("CentralEventBus"));
      }
      const targets = (id: string) => asList(resource(r, id).Properties.Targets).map((t) => obj(t).Arn);
      expect(targets("OrgTaskStateChangeRule")).toEqual([r.getAtt("HealthQueue", "Arn")]);
      expect(targets("OrgRegistrationRule")).toEqual([r.getAtt("InjectorQueue", "Arn")]);
    });

    it("the member role allows the calls made with its credentials, to the central functions' roles only", () => {
      const r = resolveMember();
      const role = resource(r, "MemberRole");
      expect(role.Properties.RoleName).toBe("dns-cache-member");
      expect(role.Properties.RoleName).toBe(resolveCentral(ORG).parameters.MemberRoleName);
      const statements = statementsOf(role);
      checkStatementHygiene(statements, "MemberRole");
      expect(sorted(grantedActions(statements))).toEqual(sorted(withImplied(MEMBER_CALLS)));
      const p = memberParams();
      expect(role.Properties.AssumeRolePolicyDocument).toEqual({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${CENTRAL.account}:root` },
            Action: "sts:AssumeRole",
            Condition: {
              ArnEquals: {
                "aws:PrincipalArn": [
                  p.CentralInjectorRoleArn,
                  p.CentralHealthRoleArn,
                  p.CentralEnforcerRoleArn,
                ],
              },
            },
          },
        ],
      });
      expect(statementWith(statements, "ecs:RegisterTaskDefinition").Resource).toEqual([
        `arn:aws:ecs:*:${MEMBER_ACCOUNT}:task-definition/*`,
      ]);
      expect(statementWith(statements, "iam:PassRole").Resource).toEqual([
        `arn:aws:iam::${MEMBER_ACCOUNT}:role/*`,
      ]);
      const patterns = resolveMember({ PassRoleArns: "arn:aws:iam::222222222222:role/app-*" });
      expect(statementWith(statementsOf(resource(patterns, "MemberRole")), "iam:PassRole").Resource).toEqual([
        "arn:aws:iam::222222222222:role/app-*",
      ]);
    });

    it("takes the central stack's outputs as its parameters", () => {
      const outputs = resolveCentral(ORG).outputs;
      const parameters = obj(member.Parameters);
      const accepts = (name: string, value: unknown) =>
        new RegExp(`^(?:${String(obj(parameters[name]).AllowedPattern)})$`).test(String(value));
      expect(accepts("CentralInjectorRoleArn", outputs.InjectorRoleArn)).toBe(true);
      expect(accepts("CentralHealthRoleArn", outputs.HealthRoleArn)).toBe(true);
      expect(accepts("CentralEnforcerRoleArn", outputs.EnforcerRoleArn)).toBe(true);
      expect(accepts("CentralEventBusArn", outputs.CentralEventBusArn)).toBe(true);
      expect(accepts("CentralAccountId", CENTRAL.account)).toBe(true);
    });

    it("creates the role once per account (in RoleRegion) and none in the central account", () => {
      expect(resolveMember().resources.MemberRole).toBeDefined();
      expect(resolveMember({}, { region: "us-west-2" }).resources.MemberRole).toBeUndefined();
      expect(resolveMember({}, { account: CENTRAL.account }).resources.MemberRole).toBeUndefined();
    });

    it("forwards to the central bus with a role allowed to put events there only", () => {
      const r = resolveMember({}, { region: "us-west-2" });
      const forwarder = resource(r, "ForwarderRole");
      const statements = statementsOf(forwarder);
      expect(statements).toEqual([
        { Effect: "Allow", Action: ["events:PutEvents"], Resource: [memberParams().CentralEventBusArn] },
      ]);
      expect(JSON.stringify(forwarder.Properties.AssumeRolePolicyDocument)).toContain("events.amazonaws.com");
      for (const id of [
        "RegistrationForwardRule",
        "TaskStateChangeForwardRule",
        "DeploymentForwardRule",
        "TagResourceForwardRule",
      ]) {
        expect(resource(r, id).Properties.Targets).toEqual([
          {
            Id: "central-bus",
            Arn: memberParams().CentralEventBusArn,
            RoleArn: r.getAtt("ForwarderRole", "Arn"),
          },
        ]);
      }
    });

    it("leaves the central account's own region to the central stack's default-bus rules", () => {
      const home = resolveMember({}, { account: CENTRAL.account, region: "us-east-1" });
      expect(Object.keys(home.resources)).toEqual(["Placeholder"]);
      const elsewhere = resolveMember({}, { account: CENTRAL.account, region: "eu-west-1" });
      expect(Object.keys(elsewhere.resources).sort()).toEqual([
        "DeploymentForwardRule",
        "ForwarderRole",
        "Placeholder",
        "RegistrationForwardRule",
        "TagResourceForwardRule",
        "TaskStateChangeForwardRule",
      ]);
    });
  });
});

describe("the preventive guard (infra/guard-scp.yaml)", () => {
  it("is off by default", () => {
    expect(Object.keys(resolveTemplate(guard, {}, CENTRAL).resources)).toEqual([]);
  });

  it("refuses Guard=on without targets before creating anything (a policy attached to nothing guards nothing)", () => {
    expect(() => resolveTemplate(guard, { Guard: "on" }, CENTRAL)).toThrow(
      /TargetsWhenOn: Guard=on needs TargetIds/,
    );
    expect(() =>
      resolveTemplate(guard, { Guard: "on", TargetIds: "ou-ab12-34567890" }, CENTRAL),
    ).not.toThrow();
  });

  it("denies RunTask and StartTask of opted-in task definitions without the dns-cache marker", () => {
    const r = resolveTemplate(
      guard,
      { Guard: "on", TargetIds: "r-ab12", OptInTag: "platform/dns=on" },
      CENTRAL,
    );
    const policy = resource(r, "GuardPolicy").Properties;
    expect(policy.Type).toBe("SERVICE_CONTROL_POLICY");
    expect(policy.TargetIds).toEqual(["r-ab12"]);
    const content = JSON.parse(String(policy.Content)) as JsonObject;
    expect(content).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyUninjectedOptedInTasks",
          Effect: "Deny",
          Action: ["ecs:RunTask", "ecs:StartTask"],
          Resource: "arn:aws:ecs:*:*:task-definition/*",
          Condition: {
            StringEquals: { "aws:ResourceTag/platform/dns": "on" },
            Null: { [`aws:ResourceTag/${MARKER_TAGS.version}`]: "true" },
          },
        },
      ],
    });
  });
});

describe("alarms and dashboard", () => {
  const r = resolveCentral(SINGLE);
  const alarms = ofType(r, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);

  // The metric names the observers publish, collected by running them against stubs.
  const published = new Set<string>();
  const recorder = {
    addMetric: (name: string) => published.add(name),
    singleMetric: () => ({ addDimension() {}, addMetric: (name: string) => published.add(name) }),
  } as unknown as Metrics;
  const quiet = new Proxy({}, { get: () => () => undefined }) as Logger;
  const observer = injectorObserver(quiet, recorder, "inject");
  for (const outcome of ["injected", "audited", "skipped", "refused", "failed"] as OutcomeKind[]) {
    observer.outcome({ outcome, reason: "X" });
  }
  observer.retry(new RetryableError("THROTTLED", "x"), {});
  const enforcerMetrics = enforcerObserver(quiet, recorder, "enforce");
  for (const outcome of ["converged", "audited", "left", "refused", "failed", "skipped"] as const) {
    enforcerMetrics.decision({ outcome, reason: "X" });
  }
  enforcerMetrics.retry(new RetryableError("THROTTLED", "x"), {});
  enforcerMetrics.flush();
  const health = healthObserver(quiet, recorder, "dns-cache-health");
  health.clusterCounts("prod", { ...zeroCounts(), HEALTHY: 3, DRIFT: 1 }, { zeros: true });
  health.summary({
    trigger: "sweep",
    counts: zeroCounts(),
    nodeCache: zeroNodeCacheCounts(),
    clustersScanned: 1,
    tasksExamined: 0,
    apiCalls: zeroApiCalls(),
    alertsSent: 1,
    alertsFailed: 1,
    callsFailed: 1,
    ignored: { X: 1 },
    durationMs: 0,
  });

  const metricAlarm = (metric: string) =>
    alarms.find((a) => a.MetricName === metric || JSON.stringify(a.Metrics ?? []).includes(`"${metric}"`));

  it("alarm when a cluster's coverage stays below the threshold, on the metric the health sweep publishes", () => {
    const alarm = metricAlarm("CoverageLowest");
    expect(published).toContain("CoverageLowest");
    expect(alarm).toMatchObject({
      ComparisonOperator: "LessThanThreshold",
      Threshold: "90",
      EvaluationPeriods: 3,
    });
    expect(resolveCentral({ CoverageThreshold: "75" }).resources.CoverageAlarm?.Properties.Threshold).toBe(
      "75",
    );
    expect(resolveCentral({ SweepSchedule: "off" }).resources.CoverageAlarm).toBeUndefined();
  });

  it("alarm on messages in either dead-letter queue", () => {
    for (const dlq of ["InjectorDeadLetterQueue", "HealthDeadLetterQueue"]) {
      const alarm = alarms.find(
        (a) =>
          JSON.stringify(a.Dimensions) ===
          JSON.stringify([{ Name: "QueueName", Value: r.getAtt(dlq, "QueueName") }]),
      );
      expect(alarm, dlq).toMatchObject({
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
      });
    }
  });

  it("alarm on either function's errors", () => {
    for (const fn of ["InjectorFunction", "HealthFunction"]) {
      const alarm = alarms.find(
        (a) => JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: "FunctionName", Value: r.ref(fn) }]),
      );
      expect(alarm, fn).toMatchObject({ Namespace: "AWS/Lambda", MetricName: "Errors", Statistic: "Sum" });
    }
  });

  it("alarm on unhealthy or stopped sidecars and on drift, with the metrics the health function publishes", () => {
    for (const metric of [METRIC_NAMES.UNHEALTHY, METRIC_NAMES.STOPPED, METRIC_NAMES.DRIFT]) {
      expect(published).toContain(metric);
      const alarm = metricAlarm(metric);
      expect(alarm, metric).toBeDefined();
      const text = JSON.stringify(alarm);
      expect(text).toContain(`"${METRICS_NAMESPACE}"`);
      expect(text).toContain('{"Name":"service","Value":"dns-cache-health"}');
    }
    expect(JSON.stringify(metricAlarm("Failed"))).toContain('"dns-cache-injector"');
  });

  it("notify the alarm topic when one is given", () => {
    for (const alarm of alarms) expect(alarm.AlarmActions).toBeUndefined();
    for (const [, alarm] of ofType(resolveCentral(TUNED), "AWS::CloudWatch::Alarm")) {
      expect(alarm.Properties.AlarmActions).toEqual([TUNED.AlarmTopicArn]);
    }
  });

  it("the dashboard shows the DnsCache metrics, all of them ones the code publishes", () => {
    const body = JSON.parse(String(resource(r, "Dashboard").Properties.DashboardBody)) as {
      widgets: Array<{ properties: { metrics: string[][]; region: string } }>;
    };
    const lines = body.widgets.flatMap((w) => w.properties.metrics);
    const ours = lines.filter((line) => line[0] === METRICS_NAMESPACE).map((line) => line[1] as string);
    for (const name of ours) expect(published, name).toContain(name);
    for (const name of [...Object.values(METRIC_NAMES), "Injected", "Refused", "Failed"])
      expect(ours).toContain(name);
    for (const w of body.widgets) expect(w.properties.region).toBe(CENTRAL.region);
    expect(lines.some((line) => line.includes(r.ref("InjectorFunction")))).toBe(true);
    expect(lines.some((line) => line.includes(r.getAtt("InjectorDeadLetterQueue", "QueueName")))).toBe(true);
  });
});
