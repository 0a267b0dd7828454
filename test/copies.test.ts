/**
 * The copy path the injector and the enforcer share (shared/copies): which revision is a family's newest
 * source, when a copy is made, found or refused, and how the gap between a source and its copy is settled.
 * Against a mocked ECS that answers as ECS does (ListTaskDefinitions newest first, ACTIVE only).
 */
import {
  ClientException,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type Tag,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import type { DescribedTaskDefinition } from "#shared/aws/ecs-task-definitions.ts";
import {
  type CopyPolicy,
  copyOf,
  copyOfRevision,
  isCurrentCopy,
  isInjected,
  newestSource,
  optInReason,
  settleGap,
} from "#shared/copies/copies.ts";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import { inject } from "#shared/engine/inject.ts";
import type { PartialOptions } from "#shared/engine/options.ts";
import { fargateApp } from "./helpers/fixtures.ts";

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({
  region: "us-east-1",
  maxAttempts: 1,
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
});
beforeEach(() => ecsMock.reset());

const arn = (revision: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/app:${revision}`;
const OPTED_IN = { key: "dns-cache", value: "enabled" };
const policy = (over: Partial<CopyPolicy> = {}): CopyPolicy => ({
  scope: "tag",
  optIn: OPTED_IN,
  optOut: { key: "dns-cache", value: "disabled" },
  options: {},
  write: true,
  ...over,
});

/** `blank`: ECS answers the describe without a task definition. */
type Rev = { tags?: Tag[]; status?: "ACTIVE" | "INACTIVE"; td?: Partial<TaskDefinition>; blank?: true };

function described(revision: number, rev: Rev = {}): DescribedTaskDefinition {
  const { tags: _, ...td } = fargateApp();
  return {
    taskDefinition: {
      ...(td as TaskDefinition),
      taskDefinitionArn: arn(revision),
      revision,
      status: rev.status ?? "ACTIVE",
      ...rev.td,
    },
    tags: rev.tags ?? [OPTED_IN],
  };
}

/** The tags of our copy of `source`, made by this version with `options`. */
function copyTags(source: number, options: PartialOptions = {}): Tag[] {
  const made = inject(described(source), { deployment: options, sourceRevision: source });
  if (made.outcome !== "injected") throw new Error("the fixture must inject");
  return made.definition.tags ?? [];
}
const copyOfRev = (source: number, options?: PartialOptions): Rev => ({ tags: copyTags(source, options) });

/**
 * A family as ECS holds it: each revision described by `app:N`, the newest ACTIVE one by `app`, the
 * ACTIVE ones listed newest first. `listed` overrides the list (a revision deregistered after it).
 * A registration gets revision `registers`.
 */
function family(revisions: Record<number, Rev>, options: { listed?: number[]; registers?: number } = {}) {
  const numbers = Object.keys(revisions).map(Number);
  const active = numbers.filter((n) => (revisions[n]?.status ?? "ACTIVE") === "ACTIVE").sort((a, b) => b - a);
  const notFound = new ClientException({ message: "Unable to describe task definition.", $metadata: {} });
  ecsMock.on(DescribeTaskDefinitionCommand).rejects(notFound);
  for (const n of numbers) {
    if (revisions[n]?.blank) {
      ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: `app:${n}` }).resolves({});
      continue;
    }
    ecsMock
      .on(DescribeTaskDefinitionCommand, { taskDefinition: `app:${n}` })
      .resolves(described(n, revisions[n]));
  }
  const newest = active[0];
  if (newest !== undefined) {
    ecsMock
      .on(DescribeTaskDefinitionCommand, { taskDefinition: "app" })
      .resolves(described(newest, revisions[newest]));
  }
  ecsMock
    .on(ListTaskDefinitionsCommand)
    .resolves({ taskDefinitionArns: (options.listed ?? active).map(arn) });
  const registers = options.registers ?? Math.max(0, ...numbers) + 1;
  ecsMock.on(RegisterTaskDefinitionCommand).resolves({
    taskDefinition: { taskDefinitionArn: arn(registers), revision: registers },
  });
  ecsMock.on(DeregisterTaskDefinitionCommand).resolves({});
}

const describedNames = () =>
  ecsMock.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition);
const deregistered = () =>
  ecsMock.commandCalls(DeregisterTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition);
const registeredSource = () =>
  ecsMock
    .commandCalls(RegisterTaskDefinitionCommand)
    .map((c) => c.args[0].input.tags?.find((t) => t.key === MARKER_TAGS.sourceRevision)?.value);

describe("reading a revision's marks", () => {
  it.each([
    ["7", 7],
    ["12", 12],
    ["7a", undefined],
    ["a7", undefined],
    ["", undefined],
  ])("reads the source revision tag %j as %s", (value, expected) => {
    expect(copyOf(described(9, { tags: [{ key: MARKER_TAGS.sourceRevision, value }] }))).toBe(expected);
  });

  it("has no source revision for anyone else's revision", () => {
    expect(copyOf(described(9))).toBeUndefined();
    expect(copyOf({ tags: [] })).toBeUndefined();
  });

  it("counts as injected a revision with our marker tag, or with our containers but no tags (carried forward)", () => {
    const made = inject(described(7), { deployment: {}, sourceRevision: 7 });
    if (made.outcome !== "injected") throw new Error("the fixture must inject");
    const carriedForward = { taskDefinition: made.definition as TaskDefinition, tags: [] };
    expect(isInjected(carriedForward)).toBe(true);
    expect(isInjected(described(7, { tags: [{ key: MARKER_TAGS.version, value: "0.1.0" }] }))).toBe(true);
    expect(isInjected(described(7))).toBe(false);
    // A user's own container that happens to be called dns-cache is not ours.
    const named = described(7, { td: { containerDefinitions: [{ name: "dns-cache", image: "x" }] } });
    expect(isInjected(named)).toBe(false);
    expect(isInjected({ tags: [] })).toBe(false);
  });

  it("opts in by the exact tag: the key alone or the value alone is not enough", () => {
    const p = policy();
    expect(optInReason([OPTED_IN], p)).toBeUndefined();
    expect(optInReason([{ key: "team", value: "enabled" }], p)).toBe("NOT_OPTED_IN");
    expect(optInReason([{ key: "dns-cache", value: "yes" }], p)).toBe("NOT_OPTED_IN");
    expect(optInReason(undefined, p)).toBe("NOT_OPTED_IN");
    expect(optInReason([OPTED_IN, { key: "dns-cache", value: "disabled" }], p)).toBe("OPTED_OUT");
    expect(optInReason([], policy({ scope: "all" }))).toBeUndefined();
    expect(optInReason([{ key: "dns-cache", value: "disabled" }], policy({ scope: "all" }))).toBe(
      "OPTED_OUT",
    );
  });

  it("calls a copy current only when it is ACTIVE, of this source, and made with the options in force", () => {
    const tuned = { upstreams: ["10.9.0.2"] };
    const current = described(8, copyOfRev(7, tuned));
    expect(isCurrentCopy(current, 7, policy({ options: tuned }))).toBe(true);
    expect(isCurrentCopy(current, 7, policy())).toBe(false);
    expect(isCurrentCopy(current, 6, policy({ options: tuned }))).toBe(false);
    expect(
      isCurrentCopy(
        { ...current, taskDefinition: { ...current.taskDefinition, status: "INACTIVE" } },
        7,
        policy({ options: tuned }),
      ),
    ).toBe(false);
    expect(isCurrentCopy(described(8), 7, policy())).toBe(false);
    // A revision the engine cannot read at all is nobody's current copy.
    const unreadable = described(8, {
      ...copyOfRev(7),
      td: {
        containerDefinitions: [
          { name: "a", image: "x" },
          { name: "a", image: "y" },
        ],
      },
    });
    expect(isCurrentCopy(unreadable, 7, policy())).toBe(false);
  });
});

describe("the newest source, when the registration's response is unknown", () => {
  it("is the newest revision when that is not a copy, or the source of a copy right after it", async () => {
    expect(await newestSource(ecs, "app", described(9), 9)).toBe(9);
    expect(await newestSource(ecs, "app", described(8, copyOfRev(7)), 8)).toBe(7);
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it("is the newest real source between an older source and its late copy, skipping copies and deregistered ones", async () => {
    // 6 = source, 11 = its late copy; 10 = our copy of 5; 9 = deregistered after the list; 8, 7 = real sources.
    family(
      { 5: {}, 6: {}, 7: {}, 8: {}, 9: { status: "INACTIVE" }, 10: copyOfRev(5), 11: copyOfRev(6) },
      {
        listed: [11, 10, 9, 8, 7, 6, 5],
      },
    );
    expect(await newestSource(ecs, "app", described(11, copyOfRev(6)), 11)).toBe(8);
    expect(describedNames()).toEqual(["app:10", "app:9", "app:8"]);
  });

  it("is the copy's source when only copies lie between, and revisions gone since the list are passed over", async () => {
    family({ 6: {}, 8: copyOfRev(5), 9: copyOfRev(6) }, { listed: [9, 8, 7, 6] });
    expect(await newestSource(ecs, "app", described(9, copyOfRev(6)), 9)).toBe(6);
    expect(describedNames()).toEqual(["app:8", "app:7"]);
  });

  it("looks at the 10 newest revisions in between at most", async () => {
    // 1 = source; 2 = a real source; 3..14 = copies of older sources; 15 = the late copy of 1.
    const revisions: Record<number, Rev> = { 1: {}, 2: {}, 15: copyOfRev(1) };
    for (let n = 3; n <= 14; n++) revisions[n] = copyOfRev(0);
    family(revisions);
    expect(await newestSource(ecs, "app", described(15, copyOfRev(1)), 15)).toBe(1);
    expect(describedNames()).toEqual([14, 13, 12, 11, 10, 9, 8, 7, 6, 5].map((n) => `app:${n}`));
  });
});

describe("finding or making the copy of one revision", () => {
  it("says the family has no ACTIVE revision when ECS knows none, or answers without one", async () => {
    family({});
    const gone = {
      kind: "skipped",
      reason: "SOURCE_NOT_FOUND",
      revision: 7,
      message: "the family has no ACTIVE revision",
    };
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual(gone);
    expect(describedNames()).toEqual(["app"]);
    ecsMock.reset();
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({});
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual(gone);
  });

  it("makes the copy of the newest revision, tagged with its source, in two calls", async () => {
    family({ 7: {} });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "made",
      reason: "INJECTED",
      revision: 7,
      copyArn: arn(8),
    });
    expect(registeredSource()).toEqual(["7"]);
    expect(ecsMock.calls()).toHaveLength(2);
  });

  it.each([
    [
      "deregistered (older than the newest ACTIVE)",
      { 5: {} },
      "SOURCE_INACTIVE",
      "the revision was deregistered",
    ],
    ["superseded by anyone's newer revision", { 7: {}, 9: {} }, "SUPERSEDED", "revision 9 is newer"],
    [
      "superseded by our copy of a newer source",
      { 7: {}, 9: copyOfRev(8) },
      "SUPERSEDED",
      "revision 9 is newer",
    ],
  ])("skips a revision %s, saying why", async (_, revisions, reason, message) => {
    family(revisions);
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "skipped",
      reason,
      revision: 7,
      message,
    });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it.each<[string, Record<number, Rev>]>([
    ["deregistered", { 6: {}, 7: { status: "INACTIVE" }, 8: copyOfRev(6) }],
    ["unknown to ECS", { 6: {}, 8: copyOfRev(6) }],
  ])("skips a source %s behind the copy of an older source", async (_, revisions) => {
    family(revisions);
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "skipped",
      reason: "SOURCE_INACTIVE",
      revision: 7,
      message: "the revision was deregistered",
    });
  });

  it("copies a source right below the copy of an older source, listing the family only for the gap check", async () => {
    family({ 6: {}, 7: {}, 8: copyOfRev(6) });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toMatchObject({
      kind: "made",
      copyArn: arn(9),
    });
    expect(registeredSource()).toEqual(["7"]);
    // Nothing can sit between 7 and 8; after registering 9, the gap check looks at 8.
    expect(describedNames()).toEqual(["app", "app:7", "app:8"]);
    expect(ecsMock).toHaveReceivedCommandTimes(ListTaskDefinitionsCommand, 1);
  });

  it("re-copies a source whose newest copy was made with other options", async () => {
    family({ 7: {}, 8: copyOfRev(7, { upstreams: ["10.9.0.2"] }) });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "made",
      reason: "INJECTED",
      revision: 7,
      copyArn: arn(9),
    });
    expect(registeredSource()).toEqual(["7"]);
    expect(ecsMock).not.toHaveReceivedCommand(DeregisterTaskDefinitionCommand);
  });

  it("never copies a source with a newer source above it, under an outdated copy of itself too", async () => {
    // 9 = an outdated copy of 7 (other options); 8 = someone's newer source, not injected yet.
    family({ 7: {}, 8: {}, 9: copyOfRev(7, { upstreams: ["10.9.0.2"] }) });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "skipped",
      reason: "SUPERSEDED",
      revision: 7,
      message: "revision 8 is a newer source",
    });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("names the newest of the newer sources, and lets deregistered ones and older copies be", async () => {
    // 11 = copy of 5; 10 = copy of 4 (older); 9 and 8 = newer sources; 7 = the source.
    family({ 5: {}, 7: {}, 8: {}, 9: {}, 10: copyOfRev(4), 11: copyOfRev(5) });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toMatchObject({
      reason: "SUPERSEDED",
      message: "revision 9 is a newer source",
    });
    ecsMock.reset();
    // 9 went INACTIVE and 8 is gone since the list: no newer source is left, so 7 is copied.
    family(
      { 5: {}, 7: {}, 9: { status: "INACTIVE" }, 10: copyOfRev(4), 11: copyOfRev(5) },
      {
        listed: [11, 10, 9, 8, 7, 5],
        registers: 12,
      },
    );
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toMatchObject({
      kind: "made",
      copyArn: arn(12),
    });
  });

  it("counts revisions after the source past 10 as superseding it, without describing them", async () => {
    const revisions: Record<number, Rev> = { 1: {}, 2: {}, 14: copyOfRev(1) };
    for (let n = 3; n <= 13; n++) revisions[n] = copyOfRev(1);
    family(revisions);
    expect(await copyOfRevision(ecs, { family: "app", revision: 2 }, policy())).toEqual({
      kind: "skipped",
      reason: "SUPERSEDED",
      revision: 2,
      message: "12 revisions were registered after it",
    });
    expect(describedNames()).toEqual(["app"]);
  });

  it("leaves a source that carries the cache already (a copy re-registered without its tags)", async () => {
    const made = inject(described(7), { deployment: {}, sourceRevision: 7 });
    if (made.outcome !== "injected") throw new Error("the fixture must inject");
    family({ 7: { td: made.definition as TaskDefinition } });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "skipped",
      reason: "ALREADY_INJECTED",
      revision: 7,
    });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("reports a source the engine cannot read as failed, with the engine's message, and registers nothing", async () => {
    family({
      7: {
        td: {
          containerDefinitions: [
            { name: "a", image: "x" },
            { name: "a", image: "y" },
          ],
        },
      },
    });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "failed",
      reason: "INVALID_SOURCE",
      revision: 7,
      message: 'two containers are named "a"',
    });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("reports every refusal of the engine, each with its message", async () => {
    family({
      7: {
        td: {
          networkMode: "host",
          requiresCompatibilities: ["EC2"],
          containerDefinitions: [{ name: "dns-cache", image: "mine", memory: 128 }],
        },
      },
    });
    const result = await copyOfRevision(ecs, { family: "app", revision: 7 }, policy());
    expect(result).toMatchObject({
      kind: "refused",
      reason: "NAME_CONFLICT",
      reasons: ["NAME_CONFLICT", "NETWORK_MODE_NOT_AWSVPC"],
      revision: 7,
    });
    expect(result.message).toMatch(/^NAME_CONFLICT: .*"dns-cache".*; NETWORK_MODE_NOT_AWSVPC: .*host/);
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("in audit, decides without registering", async () => {
    family({ 7: {} });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy({ write: false }))).toEqual({
      kind: "would-make",
      reason: "WOULD_INJECT",
      revision: 7,
    });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("deregisters its copy when a newer revision was registered while it injected", async () => {
    family({ 7: {}, 8: {} }, { listed: [9, 8, 7], registers: 9 });
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app" }).resolves(described(7));
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "skipped",
      reason: "SUPERSEDED",
      revision: 7,
      message: "a newer revision was registered while injecting; ours (9) was deregistered",
    });
    expect(deregistered()).toEqual([arn(9)]);
  });

  it("keeps the copy a retried request had made, and deregisters the duplicate", async () => {
    family({ 7: {}, 8: copyOfRev(7) }, { listed: [9, 8, 7], registers: 9 });
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app" }).resolves(described(7));
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "made",
      reason: "INJECTED",
      revision: 7,
      copyArn: arn(8),
      message: `revision 9 duplicated ${arn(8)} (a retried request) and was deregistered`,
    });
    expect(deregistered()).toEqual([arn(9)]);
  });

  it("finds its copy newest, and deregisters it when it buries a newer revision", async () => {
    family({ 7: {}, 8: {}, 9: copyOfRev(7) });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "skipped",
      reason: "SUPERSEDED",
      revision: 7,
      message: "our copy (9) buried a newer revision and was deregistered",
    });
    expect(deregistered()).toEqual([arn(9)]);
  });

  it("finds its copy right after the source without listing the family", async () => {
    family({ 7: {}, 8: copyOfRev(7) });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toEqual({
      kind: "found",
      reason: "ALREADY_INJECTED",
      revision: 7,
      copyArn: arn(8),
    });
    expect(ecsMock.calls()).toHaveLength(1);
  });
});

describe("revisions ECS describes without a task definition", () => {
  it("are nobody's copy and no newer source, and a source so described is gone", async () => {
    expect(isCurrentCopy({ tags: copyTags(7) }, 7, policy())).toBe(false);
    // newestSource: 10 blank, 9 a real source.
    family({ 6: {}, 9: {}, 10: { blank: true }, 11: copyOfRev(6) }, { listed: [11, 10, 9, 6] });
    expect(await newestSource(ecs, "app", described(11, copyOfRev(6)), 11)).toBe(9);
    ecsMock.reset();
    // The source itself blank, behind the copy of an older source.
    family({ 6: {}, 7: { blank: true }, 8: copyOfRev(6) }, { listed: [8, 7, 6] });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toMatchObject({
      reason: "SOURCE_INACTIVE",
    });
    ecsMock.reset();
    // Between the source and the copy of an older source, and between the source and our copy.
    family({ 6: {}, 7: {}, 8: { blank: true }, 9: copyOfRev(6) }, { listed: [9, 8, 7, 6], registers: 10 });
    expect(await copyOfRevision(ecs, { family: "app", revision: 7 }, policy())).toMatchObject({
      kind: "made",
      copyArn: arn(10),
    });
  });
});

describe("settling the gap between a source and its copy", () => {
  const ours = (revision: number) => ({ taskDefinitionArn: arn(revision), revision });

  it("is clean when only older copies, outdated copies of this source and deregistered revisions lie between", async () => {
    // 8 = copy of 6; 9 = outdated copy of 7; 10 = a source deregistered after the list; 11 = gone.
    family(
      {
        6: {},
        7: {},
        8: copyOfRev(6),
        9: copyOfRev(7, { upstreams: ["10.9.0.2"] }),
        10: { status: "INACTIVE" },
      },
      {
        listed: [12, 11, 10, 9, 8, 7, 6],
      },
    );
    expect(await settleGap(ecs, "app", 7, ours(12), policy())).toEqual({ kind: "clean" });
    expect(describedNames()).toEqual(["app:8", "app:9", "app:10", "app:11"]);
    expect(ecsMock).not.toHaveReceivedCommand(DeregisterTaskDefinitionCommand);
  });

  it("keeps the earliest current copy of this source and deregisters ours", async () => {
    family({ 7: {}, 8: copyOfRev(7), 9: copyOfRev(7) }, { listed: [10, 9, 8, 7] });
    expect(await settleGap(ecs, "app", 7, ours(10), policy())).toEqual({ kind: "duplicate", of: arn(8) });
    expect(deregistered()).toEqual([arn(10)]);
  });

  it.each([
    ["anyone's revision", {}],
    ["our copy of a newer source", copyOfRev(8)],
  ])("is blocked by %s, and ours goes", async (_, between) => {
    family({ 7: {}, 8: {}, 9: between }, { listed: [10, 9, 7] });
    expect(await settleGap(ecs, "app", 7, ours(10), policy())).toEqual({ kind: "blocked" });
    expect(deregistered()).toEqual([arn(10)]);
  });

  it("in audit, answers what would happen and deregisters nothing", async () => {
    family({ 7: {}, 8: {} }, { listed: [9, 8, 7] });
    expect(await settleGap(ecs, "app", 7, ours(9), policy({ write: false }))).toEqual({ kind: "blocked" });
    expect(ecsMock).not.toHaveReceivedCommand(DeregisterTaskDefinitionCommand);
  });

  it("is blocked by more than 10 revisions in between, without describing any", async () => {
    const revisions: Record<number, Rev> = { 1: {} };
    for (let n = 2; n <= 12; n++) revisions[n] = copyOfRev(0);
    family(revisions, { listed: [13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1] });
    expect(await settleGap(ecs, "app", 1, ours(13), policy())).toEqual({ kind: "blocked" });
    expect(describedNames()).toEqual([]);
    expect(deregistered()).toEqual([arn(13)]);
  });
});
