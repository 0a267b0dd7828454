/**
 * The enforcer's judgement of one service, against a scope and guard played by fakes: which copy it moves
 * to, or why it leaves the service alone. (test/enforcer.test.ts drives the same through the real SDK.)
 */
import type { ECSClient, Service, Tag, TaskDefinition } from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import type { Alert } from "#shared/aws/alerts.ts";
import type { DescribedTaskDefinition } from "#shared/aws/ecs-task-definitions.ts";
import { inMemory, type Memory } from "#shared/aws/enforcer-memory.ts";
import type { Guard } from "#shared/aws/guard.ts";
import type { CopyResult } from "#shared/copies/copies.ts";
import { loadEnforcerConfig } from "#shared/enforcer/config.ts";
import { ADVICE } from "#shared/enforcer/decide.ts";
import { guardedCopy, isMove, type JudgeDeps, judge } from "#shared/enforcer/judge.ts";
import type { Scope } from "#shared/enforcer/scope.ts";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import { inject } from "#shared/engine/inject.ts";
import { appDefinition, OPT_IN } from "./support/enforcer-world.ts";

const ACCOUNT = "123456789012";
const SVC = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/prod/web`;
const CLUSTER = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/prod`;
const arnOf = (revision: number) => `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:${revision}`;
const OPT_OUT = { key: "dns-cache", value: "disabled" };
const OPT_IN_TAG = { key: "dns-cache", value: "enabled" };

function source(revision: number, tags: Tag[] = [OPT_IN]): DescribedTaskDefinition {
  const { tags: _, ...input } = appDefinition("web");
  return {
    taskDefinition: {
      ...(input as TaskDefinition),
      taskDefinitionArn: arnOf(revision),
      revision,
      status: "ACTIVE",
    },
    tags,
  };
}

/** Our current copy of `of`, registered as `revision`. */
function copy(of: number, revision: number, tags: Tag[] = [OPT_IN]): DescribedTaskDefinition {
  const made = inject({ taskDefinition: source(of, tags).taskDefinition, tags }, { sourceRevision: of });
  if (made.outcome !== "injected") throw new Error("fixture must inject");
  const { tags: copyTags, ...definition } = made.definition;
  return {
    taskDefinition: {
      ...(definition as TaskDefinition),
      taskDefinitionArn: arnOf(revision),
      revision,
      status: "ACTIVE",
    },
    tags: copyTags as Tag[],
  };
}

function running(revision: number | string, overrides: Partial<Service> = {}): Service {
  const taskDefinition = typeof revision === "number" ? arnOf(revision) : revision;
  return {
    serviceArn: SVC,
    clusterArn: CLUSTER,
    status: "ACTIVE",
    taskDefinition,
    deployments: [{ status: "PRIMARY", taskDefinition, rolloutState: "COMPLETED" }],
    ...overrides,
  };
}

/** A scope whose family has these revisions (the highest is the newest), and stacks in these states. */
function scopeOf(
  revisions: DescribedTaskDefinition[],
  stacks: Record<string, string> = {},
  described: Record<number, DescribedTaskDefinition> = {},
) {
  const read: string[] = [];
  const byRevision = new Map(revisions.map((d) => [d.taskDefinition?.revision ?? 0, d]));
  for (const [revision, d] of Object.entries(described)) byRevision.set(Number(revision), d);
  const newest = [...byRevision.keys()].sort((a, b) => b - a)[0];
  const memos = new Map<string, Promise<unknown>>();
  const scope = {
    target: { account: ACCOUNT, region: "us-east-1" },
    ecs: {} as ECSClient,
    async newest(family: string) {
      read.push(family);
      return newest === undefined ? undefined : byRevision.get(newest);
    },
    async revision(family: string, revision: number) {
      read.push(`${family}:${revision}`);
      return byRevision.get(revision);
    },
    memo<T>(key: string, work: () => Promise<T>): Promise<T> {
      if (!memos.has(key)) memos.set(key, work());
      return memos.get(key) as Promise<T>;
    },
    async stackStatus(name: string) {
      read.push(`stack:${name}`);
      return stacks[name];
    },
  };
  return { scope: scope as unknown as Scope, read };
}

/** A guard that answers with `answer` (as if the copy path ran, or as a replay) and records its keys. */
function guardOf(answer: CopyResult, replayed = false) {
  const keys: string[] = [];
  const guard: Guard = {
    async run(key) {
      keys.push(key);
      return { result: answer as never, replayed };
    },
    registerLambdaContext() {},
  };
  return { guard, keys };
}

function depsOf(
  options: { mode?: "enforce" | "audit"; guard?: Guard; memory?: Memory | null; stacks?: boolean } = {},
) {
  const alerts: Alert[] = [];
  const deps: JudgeDeps = {
    config: loadEnforcerConfig({
      DNS_CACHE_MODE: options.mode ?? "enforce",
      DNS_CACHE_IDEMPOTENCY_TABLE: "t",
      DNS_CACHE_CHECK_STACKS: options.stacks ? "on" : "off",
    }),
    guard: options.guard ?? guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(2) }).guard,
    ...(options.memory === null ? {} : { memory: options.memory ?? inMemory() }),
    async alert(alert) {
      alerts.push(alert);
    },
  };
  return { deps, alerts };
}

const about = (revision: number) => ({ service: SVC, cluster: CLUSTER, taskDefinitionArn: arnOf(revision) });

describe("the enforcer's judgement: a service running its family's newest revision", () => {
  it("moves it to the copy the shared path made, guarded by the source's ARN", async () => {
    const { guard, keys } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(2) });
    const { scope } = scopeOf([source(1)]);
    const svc = running(1);
    expect(await judge(svc, scope, depsOf({ guard }).deps)).toEqual({
      move: true,
      svc,
      source: arnOf(1),
      copyArn: arnOf(2),
      made: true,
    });
    expect(keys).toEqual([arnOf(1)]);
  });

  it("moves it to a copy found (made: false)", async () => {
    const { guard } = guardOf({ kind: "found", reason: "ALREADY_INJECTED", copyArn: arnOf(2) });
    const verdict = await judge(running(1), scopeOf([source(1)]).scope, depsOf({ guard }).deps);
    expect(verdict).toMatchObject({ move: true, copyArn: arnOf(2), made: false });
  });

  it.each<[string, CopyResult, Record<string, unknown>]>([
    [
      "audit mode: would converge",
      { kind: "would-make", reason: "WOULD_INJECT" },
      {
        outcome: "audited",
        reason: "WOULD_CONVERGE",
        message: "would inject revision 1 and move the service to the copy",
      },
    ],
    [
      "the engine refuses",
      {
        kind: "refused",
        reason: "TOO_MANY_CONTAINERS",
        reasons: ["TOO_MANY_CONTAINERS", "PORT_CONFLICT"],
        message: "TOO_MANY_CONTAINERS: 9 containers",
      },
      {
        outcome: "refused",
        reason: "TOO_MANY_CONTAINERS",
        reasons: ["TOO_MANY_CONTAINERS", "PORT_CONFLICT"],
        message: "TOO_MANY_CONTAINERS: 9 containers",
      },
    ],
    [
      "a refusal without its list of reasons",
      { kind: "refused", reason: "REFUSED" },
      { outcome: "refused", reason: "REFUSED", reasons: [] },
    ],
    [
      "the registration fails",
      { kind: "failed", reason: "REGISTRATION_REJECTED", message: "too big" },
      { outcome: "failed", reason: "REGISTRATION_REJECTED", message: "too big" },
    ],
    [
      "a newer revision appeared meanwhile",
      { kind: "skipped", reason: "SUPERSEDED", message: "revision 3 is newer" },
      { outcome: "left", reason: "NO_COPY_FOR_OLDER_REVISION", message: "revision 3 is newer" },
    ],
    [
      "the copy path skips it",
      { kind: "skipped", reason: "SOURCE_INACTIVE" },
      { outcome: "left", reason: "SOURCE_INACTIVE" },
    ],
    [
      "a skipped answer, even one naming a copy",
      { kind: "skipped", reason: "ALREADY_INJECTED", copyArn: arnOf(2) },
      { outcome: "left", reason: "ALREADY_INJECTED" },
    ],
    [
      "a copy result that names no copy",
      { kind: "made", reason: "INJECTED" },
      { outcome: "left", reason: "INJECTED" },
    ],
  ])("%s", async (_, answer, expected) => {
    const { guard } = guardOf(answer);
    const verdict = await judge(running(1), scopeOf([source(1)]).scope, depsOf({ guard }).deps);
    expect(verdict).toEqual({ ...expected, ...about(1) });
  });

  it.each([
    ["not opted in", [], "NOT_OPTED_IN"],
    ["opted out", [OPT_IN, OPT_OUT], "OPTED_OUT"],
    [
      "injected already (our marker tags)",
      [OPT_IN, { key: MARKER_TAGS.version, value: "1" }],
      "ALREADY_INJECTED",
    ],
  ])("leaves it when its revision is %s, without asking the copy path", async (_, tags, reason) => {
    const { guard, keys } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(2) });
    const verdict = await judge(running(1), scopeOf([source(1, tags)]).scope, depsOf({ guard }).deps);
    expect(verdict).toEqual({ outcome: "left", reason, ...about(1) });
    expect(keys).toEqual([]);
  });

  it("copies every family not opted out with DNS_CACHE_OPT_IN=all", async () => {
    const { deps } = depsOf();
    const all = { ...deps, config: { ...deps.config, scope: "all" as const } };
    expect(isMove(await judge(running(1), scopeOf([source(1, [])]).scope, all))).toBe(true);
    expect(await judge(running(1), scopeOf([source(1, [OPT_OUT])]).scope, all)).toMatchObject({
      reason: "OPTED_OUT",
    });
  });
});

describe("the enforcer's judgement: a service running an older revision", () => {
  it("moves it to the current copy that follows its revision, made: false, without copying", async () => {
    const { guard, keys } = guardOf({ kind: "made", reason: "INJECTED", copyArn: "unused" });
    const { scope, read } = scopeOf([source(1), copy(1, 2), source(3)]);
    const svc = running(1);
    expect(await judge(svc, scope, depsOf({ guard }).deps)).toEqual({
      move: true,
      svc,
      source: arnOf(1),
      copyArn: arnOf(2),
      made: false,
    });
    expect(keys).toEqual([]);
    expect(read).toEqual(["web", "web:2"]);
  });

  it("never copies it when a newer source exists (NO_COPY_FOR_OLDER_REVISION, naming the newer revision)", async () => {
    const { guard, keys } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(9) });
    const { scope, read } = scopeOf([source(1), source(2), source(3)]);
    expect(await judge(running(1), scope, depsOf({ guard }).deps)).toEqual({
      outcome: "left",
      reason: "NO_COPY_FOR_OLDER_REVISION",
      message: "revision 3 is newer; the service converges on its next deploy",
      ...about(1),
    });
    expect(keys).toEqual([]);
    expect(read).toEqual(["web", "web:2", "web:1"]);
  });

  it("does not take a copy of another revision, nor an outdated copy, for the copy of its own", async () => {
    const outdated = copy(1, 2);
    outdated.tags = (outdated.tags ?? []).map((t) =>
      t.key === MARKER_TAGS.options ? { ...t, value: "x" } : t,
    );
    const unnamed = copy(1, 2);
    delete unnamed.taskDefinition?.taskDefinitionArn;
    for (const next of [copy(3, 2), outdated, unnamed]) {
      const verdict = await judge(running(1), scopeOf([source(1), next, source(4)]).scope, depsOf().deps);
      expect(verdict).toMatchObject({ outcome: "left", reason: "NO_COPY_FOR_OLDER_REVISION" });
    }
    const inactive = copy(1, 2);
    inactive.taskDefinition = { ...inactive.taskDefinition, status: "INACTIVE" };
    const verdict = await judge(running(1), scopeOf([source(1), inactive, source(4)]).scope, depsOf().deps);
    expect(verdict).toMatchObject({ reason: "NO_COPY_FOR_OLDER_REVISION" });
  });

  it("leaves it when its own revision is out of scope, before looking for a newer source", async () => {
    for (const [tags, reason] of [
      [[], "NOT_OPTED_IN"],
      [[OPT_IN, OPT_OUT], "OPTED_OUT"],
    ] as const) {
      const verdict = await judge(
        running(1),
        scopeOf([source(1, [...tags]), source(3)]).scope,
        depsOf().deps,
      );
      expect(verdict).toEqual({ outcome: "left", reason, ...about(1) });
    }
  });

  it("copies it when the newest revision is our copy of an older source: it is the newest source", async () => {
    const { guard, keys } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(4) });
    const { scope, read } = scopeOf([source(1), source(2), copy(1, 3)]);
    expect(await judge(running(2), scope, depsOf({ guard }).deps)).toMatchObject({
      move: true,
      source: arnOf(2),
      copyArn: arnOf(4),
      made: true,
    });
    expect(keys).toEqual([arnOf(2)]);
    // The newest and its own revision only: no copy of it can follow it yet.
    expect(read).toEqual(["web", "web:2"]);
  });

  it("never copies it when the newest revision is our copy of a newer source", async () => {
    const { guard, keys } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(9) });
    const { scope } = scopeOf([source(1), source(2), copy(2, 3)]);
    expect(await judge(running(1), scope, depsOf({ guard }).deps)).toEqual({
      outcome: "left",
      reason: "NO_COPY_FOR_OLDER_REVISION",
      message: "revision 3 is newer; the service converges on its next deploy",
      ...about(1),
    });
    expect(keys).toEqual([]);
  });

  it("moves it through the copy path when the newest revision is our copy of it", async () => {
    const { guard, keys } = guardOf({ kind: "found", reason: "ALREADY_INJECTED", copyArn: arnOf(3) });
    const { scope, read } = scopeOf([source(1), copy(1, 3)]);
    expect(await judge(running(1), scope, depsOf({ guard }).deps)).toMatchObject({
      move: true,
      copyArn: arnOf(3),
      made: false,
    });
    expect(keys).toEqual([arnOf(1)]);
    expect(read).toEqual(["web"]);
  });

  it("leaves it when the newest revision is our copy of it but the family is out of scope now", async () => {
    const { guard, keys } = guardOf({ kind: "found", reason: "ALREADY_INJECTED", copyArn: arnOf(2) });
    const outOfScope = copy(1, 2);
    outOfScope.tags = [...(outOfScope.tags ?? []), OPT_OUT];
    const verdict = await judge(running(1), scopeOf([source(1), outOfScope]).scope, depsOf({ guard }).deps);
    expect(verdict).toEqual({ outcome: "left", reason: "OPTED_OUT", ...about(1) });
    expect(keys).toEqual([]);
  });

  it.each([
    ["the family has no ACTIVE revision", [], "SOURCE_INACTIVE", "the family has no ACTIVE revision"],
    ["its revision cannot be described", [source(3)], "SOURCE_NOT_FOUND", "the revision cannot be described"],
    [
      "its revision is described without a definition",
      [source(3)],
      "SOURCE_NOT_FOUND",
      "the revision cannot be described",
      { 1: { tags: [OPT_IN] } },
    ],
    [
      "its family's newest is described without a revision",
      [],
      "SOURCE_INACTIVE",
      "the family has no ACTIVE revision",
      { 1: { tags: [OPT_IN], taskDefinition: { family: "web" } } },
    ],
    [
      "its family's newest is described without a definition",
      [],
      "SOURCE_INACTIVE",
      "the family has no ACTIVE revision",
      { 1: { tags: [OPT_IN] } },
    ],
  ] as Array<[string, DescribedTaskDefinition[], string, string, Record<number, DescribedTaskDefinition>?]>)(
    "leaves it when %s",
    async (_, revisions, reason, message, described = {}) => {
      const scoped = scopeOf(revisions, {}, described);
      const verdict = await judge(running(1), scoped.scope, depsOf().deps);
      expect(verdict).toEqual({ outcome: "left", reason, message, ...about(1) });
    },
  );
});

describe("the enforcer's judgement: a service running a deregistered revision", () => {
  it("leaves it (SOURCE_INACTIVE) when the family's newest ACTIVE revision is older, reading nothing more", async () => {
    const { guard, keys } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(9) });
    for (const newest of [source(3), copy(2, 3)]) {
      const { scope, read } = scopeOf([newest]);
      expect(await judge(running(5), scope, depsOf({ guard }).deps)).toEqual({
        outcome: "left",
        reason: "SOURCE_INACTIVE",
        message: "the revision was deregistered",
        ...about(5),
      });
      expect(read).toEqual(["web"]);
    }
    expect(keys).toEqual([]);
  });
});

describe("the enforcer's judgement before the family is read", () => {
  it("leaves a service the description alone rules out (triage) without reading anything", async () => {
    const { scope, read } = scopeOf([source(1)]);
    const verdict = await judge(running(1, { status: "DRAINING" }), scope, depsOf().deps);
    expect(verdict).toMatchObject({ outcome: "left", reason: "SERVICE_NOT_ACTIVE" });
    expect(read).toEqual([]);
  });

  it("leaves a service whose task definition is not an ARN (SOURCE_NOT_FOUND)", async () => {
    const { scope, read } = scopeOf([source(1)]);
    expect(await judge(running("web:1"), scope, depsOf().deps)).toEqual({
      outcome: "left",
      reason: "SOURCE_NOT_FOUND",
      message: "the service's task definition is not an ARN",
      service: SVC,
      cluster: CLUSTER,
      taskDefinitionArn: "web:1",
    });
    expect(read).toEqual([]);
  });

  const stackTags = [{ key: "aws:cloudformation:stack-name", value: "app" }];

  it.each(["UPDATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"])(
    "leaves a service whose stack is %s (STACK_IN_PROGRESS)",
    async (status) => {
      const { scope } = scopeOf([source(1)], { app: status });
      const verdict = await judge(running(1, { tags: stackTags }), scope, depsOf({ stacks: true }).deps);
      expect(verdict).toEqual({
        outcome: "left",
        reason: "STACK_IN_PROGRESS",
        message: `stack app is ${status}`,
        ...about(1),
      });
    },
  );

  it("goes on when the stack is settled or gone, or the service has no stack", async () => {
    for (const stacks of [{ app: "UPDATE_COMPLETE" }, {}] as Array<Record<string, string>>) {
      const { scope, read } = scopeOf([source(1)], stacks);
      expect(isMove(await judge(running(1, { tags: stackTags }), scope, depsOf({ stacks: true }).deps))).toBe(
        true,
      );
      expect(read).toContain("stack:app");
    }
    const { scope, read } = scopeOf([source(1)], { app: "UPDATE_IN_PROGRESS" });
    expect(isMove(await judge(running(1), scope, depsOf({ stacks: true }).deps))).toBe(true);
    expect(read.filter((r) => r.startsWith("stack:"))).toEqual([]);
  });

  it("reads no stack with DNS_CACHE_CHECK_STACKS=off", async () => {
    const { scope, read } = scopeOf([source(1)], { app: "UPDATE_IN_PROGRESS" });
    expect(isMove(await judge(running(1, { tags: stackTags }), scope, depsOf({ stacks: false }).deps))).toBe(
      true,
    );
    expect(read).toEqual(["web"]);
  });

  it("leaves a service it moved itself (ALREADY_INJECTED), reading nothing", async () => {
    const memory = inMemory();
    await memory.recordMove(SVC, { sourceArn: arnOf(1), copyArn: arnOf(2) });
    const { scope, read } = scopeOf([source(1), copy(1, 2)]);
    expect(await judge(running(2), scope, depsOf({ memory }).deps)).toEqual({
      outcome: "left",
      reason: "ALREADY_INJECTED",
      message: "moved here by the enforcer",
      ...about(2),
    });
    expect(read).toEqual([]);
  });

  it("judges a service it moved before again once it runs another revision", async () => {
    const memory = inMemory();
    await memory.recordMove(SVC, { sourceArn: arnOf(1), copyArn: arnOf(2) });
    const { guard } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(4) });
    const verdict = await judge(running(3), scopeOf([source(3)]).scope, depsOf({ memory, guard }).deps);
    expect(verdict).toMatchObject({ move: true, source: arnOf(3), copyArn: arnOf(4) });
  });

  it("judges without memory (no table in audit mode)", async () => {
    const verdict = await judge(running(1), scopeOf([source(1)]).scope, depsOf({ memory: null }).deps);
    expect(isMove(verdict)).toBe(true);
  });
});

describe("the enforcer's judgement of a service put back on its source by its owner", () => {
  const terraform = [{ key: "ManagedBy", value: "terraform" }];

  async function revertedWorld(mode: "enforce" | "audit") {
    const memory = inMemory();
    await memory.recordMove(SVC, { sourceArn: arnOf(1), copyArn: arnOf(2) });
    const { guard, keys } = guardOf({ kind: "found", reason: "ALREADY_INJECTED", copyArn: arnOf(2) });
    const { deps, alerts } = depsOf({ mode, memory, guard });
    return { deps, alerts, keys, scope: scopeOf([source(1), copy(1, 2)]) };
  }

  it("reports it once with an alert naming source, copy and the tool's advice, and never moves it again", async () => {
    const { deps, alerts, keys, scope } = await revertedWorld("enforce");
    const first = await judge(running(1, { tags: terraform }), scope.scope, deps);
    expect(first).toEqual({
      outcome: "left",
      reason: "REVERTED_BY_OWNER",
      message: `moved off ${arnOf(1)} before and put back by its owner (terraform); not moved again for this revision`,
      advice: ADVICE.terraform,
      alerted: true,
      copyArn: arnOf(2),
      ...about(1),
    });
    expect(alerts).toEqual([
      {
        detailType: "DNS Cache Enforcement Reverted",
        resources: [SVC],
        detail: {
          reason: "REVERTED_BY_OWNER",
          service: SVC,
          cluster: CLUSTER,
          sourceTaskDefinitionArn: arnOf(1),
          copyTaskDefinitionArn: arnOf(2),
          managedBy: "terraform",
          advice: ADVICE.terraform,
        },
      },
    ]);
    const second = await judge(running(1, { tags: terraform }), scope.scope, deps);
    expect(second).toMatchObject({ reason: "REVERTED_BY_OWNER", alerted: false });
    expect(alerts).toHaveLength(1);
    expect(keys).toEqual([]);
    expect(scope.read).toEqual([]);
  });

  it("only reports in audit mode, without an alert", async () => {
    const { deps, alerts, scope } = await revertedWorld("audit");
    const verdict = await judge(running(1), scope.scope, deps);
    expect(verdict).toMatchObject({ reason: "REVERTED_BY_OWNER", alerted: false, advice: ADVICE.other });
    expect(String((verdict as { message?: string }).message)).toContain("(unknown)");
    expect(alerts).toEqual([]);
    // The claim was not spent: enforce mode still alerts once.
    expect(await deps.memory?.claimRevertReport(SVC, arnOf(1))).toBe(true);
  });
});

describe("the copy of a source, shared by the services that run it", () => {
  it("is asked once per source in an invocation", async () => {
    const { guard, keys } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(2) });
    const { scope } = scopeOf([source(1)]);
    const deps = depsOf({ guard }).deps;
    const other = running(1, { serviceArn: `${SVC}-2` });
    const verdicts = await Promise.all([judge(running(1), scope, deps), judge(other, scope, deps)]);
    expect(verdicts.map((v) => isMove(v) && v.copyArn)).toEqual([arnOf(2), arnOf(2)]);
    expect(keys).toEqual([arnOf(1)]);
  });

  it("is asked separately for each source", async () => {
    const { guard, keys } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(9) });
    const { scope } = scopeOf([source(1)]);
    const policy = { scope: "tag" as const, optIn: OPT_IN_TAG, optOut: OPT_OUT, options: {}, write: true };
    const refOf = (family: string) => ({
      arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${family}:1`,
      family,
      revision: 1,
      partition: "aws",
      account: ACCOUNT,
      region: "us-east-1",
    });
    await guardedCopy(scope, refOf("web"), policy, guard);
    await guardedCopy(scope, refOf("api"), policy, guard);
    await guardedCopy(scope, refOf("web"), policy, guard);
    expect(keys).toEqual([refOf("web").arn, refOf("api").arn]);
  });

  it("decides again when the guard replays an answer without a copy (e.g. NOT_OPTED_IN before the tag)", async () => {
    const { guard } = guardOf({ kind: "skipped", reason: "NOT_OPTED_IN" }, true);
    const { scope } = scopeOf([source(1)]);
    const ref = {
      arn: arnOf(1),
      family: "web",
      revision: 1,
      partition: "aws",
      account: ACCOUNT,
      region: "us-east-1",
    };
    const policy = { scope: "tag" as const, optIn: OPT_IN_TAG, optOut: OPT_OUT, options: {}, write: false };
    // Audit: the shared path decides again from the known newest, reading nothing.
    expect(await guardedCopy(scope, ref, policy, guard, source(1))).toMatchObject({
      kind: "would-make",
      reason: "WOULD_INJECT",
    });
    // Through judge in audit mode: the replay without a copy does not stop it.
    const verdict = await judge(
      running(1),
      scopeOf([source(1)]).scope,
      depsOf({ mode: "audit", guard }).deps,
    );
    expect(verdict).toMatchObject({ outcome: "audited", reason: "WOULD_CONVERGE" });
  });

  it("keeps a replayed answer that names a copy", async () => {
    const { guard } = guardOf({ kind: "made", reason: "INJECTED", copyArn: arnOf(2) }, true);
    const verdict = await judge(
      running(1),
      scopeOf([source(1)]).scope,
      depsOf({ mode: "audit", guard }).deps,
    );
    expect(verdict).toMatchObject({ move: true, copyArn: arnOf(2), made: true });
  });
});
