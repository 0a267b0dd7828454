import type { RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import type { Outcome } from "#shared/injector/flow.ts";
import { loadEvent, registrationEvent } from "./helpers/events.ts";
import { fargateApp } from "./helpers/fixtures.ts";
import { type EcsStandin, fault, startEcsStandin } from "./support/ecs-standin.ts";
import { captureStdout, lambdaContext, loadHandler, startDynamo } from "./support/lambda.ts";

let ecs: EcsStandin;
let dynamo: Awaited<ReturnType<typeof startDynamo>>;
let handler: Awaited<ReturnType<typeof loadHandler>>;

beforeAll(async () => {
  ecs = await startEcsStandin();
  dynamo = await startDynamo();
  handler = await loadHandler("injector", {
    ...ecs.env(),
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    DNS_CACHE_IDEMPOTENCY_TABLE: dynamo.tableName,
    AWS_LAMBDA_FUNCTION_NAME: "dns-cache-injector",
    POWERTOOLS_LOG_LEVEL: "WARN",
  });
});
afterAll(async () => {
  await ecs.close();
  await dynamo.close();
});
beforeEach(() => ecs.reset());

function seed(family: string, tags = [{ key: "dns-cache", value: "enabled" }]): number {
  const { tags: _, ...td } = fargateApp({ family });
  return (
    ecs.state.registerTaskDefinition(td as RegisterTaskDefinitionCommandInput, tags).taskDefinition
      .revision ?? 0
  );
}

/** What the platform does with a failed invocation: try again (SQS redelivery), up to `attempts` times. */
async function deliver(event: unknown, attempts = 25): Promise<Outcome> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return (await handler(event, lambdaContext())) as Outcome;
    } catch (error) {
      last = error;
      // Like an SQS visibility timeout, shortened.
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * (i + 1))));
    }
  }
  throw last;
}

function injectedRevisions(family: string) {
  return ecs.state
    .allTaskDefinitions()
    .filter((td) => td.family === family && td.status === "ACTIVE")
    .filter((td) => (td.containerDefinitions ?? []).some((c) => c.name === "dns-cache"));
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

// Soaks of the adapters' retries (seconds each): left out of mutation runs (vitest.mutation.config.ts).
describe.skipIf(process.env.DNS_CACHE_MUTATION_RUN)("the injector against a faulty ECS", () => {
  it("injects every event exactly once under 50% throttling of every call", async () => {
    const families = Array.from({ length: 8 }, (_, i) => `svc-${i}`);
    const events = families.map((f) => registrationEvent(f, seed(f)));
    ecs.setFaults({ seed: 7, rules: [fault.sometimes("*", "throttle", 0.5)] });
    await pool(events, 4, (e) => deliver(e));
    for (const f of families) {
      const injected = injectedRevisions(f);
      expect(injected, f).toHaveLength(1);
      expect(injected[0]?.revision).toBe(2);
    }
    expect(ecs.calls.count("RegisterTaskDefinition", { errorType: "ThrottlingException" })).toBeGreaterThan(
      0,
    );
  }, 60_000);

  it("survives 500s, dropped connections and slow answers", async () => {
    const families = ["a", "b", "c", "d", "e", "f"];
    const events = families.map((f) => registrationEvent(f, seed(f)));
    ecs.setFaults({
      seed: 3,
      rules: [
        fault.sometimes("*", "server-error", 0.3),
        fault.sometimes("*", "drop", 0.2),
        fault.sometimes("*", "slow", 0.3, { delayMs: 150 }),
      ],
    });
    await pool(events, 3, (e) => deliver(e));
    for (const f of families) expect(injectedRevisions(f), f).toHaveLength(1);
    // Each kind of fault did fire (else this test proves nothing about surviving it).
    expect(ecs.faultStats().map((s) => [s.rule.kind, s.fired > 0])).toEqual([
      ["server-error", true],
      ["drop", true],
      ["slow", true],
    ]);
    expect(ecs.calls.count(undefined, { outcome: "dropped" })).toBeGreaterThan(0);
    expect(ecs.calls.count(undefined, { errorType: "ServerException" })).toBeGreaterThan(0);
  }, 60_000);

  it("keeps one revision when a registration succeeded but its answer was lost and the SDK retried it", async () => {
    const event = registrationEvent("lost", seed("lost"));
    ecs.setFaults([fault.next("RegisterTaskDefinition", "drop-after-commit", 1)]);
    const outcome = await deliver(event);
    expect(outcome).toMatchObject({
      outcome: "injected",
      injectedTaskDefinitionArn: expect.stringMatching(/:task-definition\/lost:2$/),
    });
    expect(injectedRevisions("lost").map((td) => td.revision)).toEqual([2]);
    expect(ecs.state.findTaskDefinition("lost:3")?.status).toBe("INACTIVE");
  }, 30_000);

  it("throws when ECS keeps failing, and registers nothing half-done", async () => {
    const event = registrationEvent("down", seed("down"));
    ecs.setFaults([fault.always("RegisterTaskDefinition", "server-error")]);
    await expect(handler(event, lambdaContext())).rejects.toMatchObject({
      name: "RetryableError",
      reason: "ECS_UNAVAILABLE",
    });
    expect(ecs.state.allTaskDefinitions().filter((td) => td.family === "down")).toHaveLength(1);
    ecs.setFaults([fault.always("DescribeTaskDefinition", "throttle")]);
    await expect(handler(event, lambdaContext())).rejects.toMatchObject({ reason: "THROTTLED" });
    ecs.setFaults(undefined);
    expect(await deliver(event)).toMatchObject({ outcome: "injected" });
  }, 60_000);

  it("registers once when the same event arrives three times at once (duplicate guard on DynamoDB)", async () => {
    const event = registrationEvent("dup", seed("dup"));
    ecs.setFaults([fault.slow("RegisterTaskDefinition", 200)]);
    const outcomes = await Promise.all([deliver(event), deliver(event), deliver(event)]);
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(1);
    expect(injectedRevisions("dup")).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === "injected")).toHaveLength(1);
    expect(outcomes.filter((o) => o.reason === "DUPLICATE_EVENT")).toHaveLength(2);
    // Much later, the same event again (say from a replayed archive): still nothing new.
    expect(await deliver(event)).toMatchObject({ reason: "DUPLICATE_EVENT" });
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(1);
  }, 30_000);
});

/**
 * Revisions registered between the source and the injector's own (each behind the injector's back): here
 * copies the injector made of an older source, which alone would let its own revision stand. Past 10 of
 * them the injector stops describing them one by one (a bounded number of calls) and registers nothing.
 */
describe("revisions registered in between", () => {
  /** Source revision 2 of `family` (after 1), then `n` copies of revision 1 made in between. */
  function familyWithCopiesInBetween(family: string, n: number): number {
    seed(family);
    const source = seed(family);
    const { tags: _, ...td } = fargateApp({ family });
    for (let i = 0; i < n; i++) {
      ecs.state.registerTaskDefinition(td as RegisterTaskDefinitionCommandInput, [
        { key: "dns-cache", value: "enabled" },
        { key: MARKER_TAGS.version, value: "0.1.0" },
        { key: MARKER_TAGS.sourceRevision, value: "1" },
      ]);
    }
    return source;
  }

  it.each([1, 10])(
    "with %i in between, describes each and keeps its revision",
    async (n) => {
      const family = `between-${n}`;
      const source = familyWithCopiesInBetween(family, n);
      const ours = source + n + 1;
      expect(await deliver(registrationEvent(family, source))).toMatchObject({
        outcome: "injected",
        injectedTaskDefinitionArn: expect.stringMatching(new RegExp(`:task-definition/${family}:${ours}$`)),
      });
      expect(ecs.state.findTaskDefinition(`${family}:${ours}`)?.status).toBe("ACTIVE");
      expect(ecs.calls.count("DeregisterTaskDefinition")).toBe(0);
    },
    30_000,
  );

  it.each([11, 25])(
    "with %i in between, registers nothing and describes none of them",
    async (n) => {
      const family = `flood-${n}`;
      const source = familyWithCopiesInBetween(family, n);
      const ours = source + n + 1;
      ecs.calls.reset();
      expect(await deliver(registrationEvent(family, source))).toMatchObject({
        outcome: "skipped",
        reason: "SUPERSEDED",
      });
      // Too many to tell whether a newer source is among them: as the gap check would, it stays away.
      expect(ecs.state.findTaskDefinition(`${family}:${ours}`)).toBeUndefined();
      expect(ecs.calls.count("RegisterTaskDefinition")).toBe(0);
      // The newest and the source, at most: never one call per revision in between.
      expect(ecs.calls.count("DescribeTaskDefinition")).toBeLessThanOrEqual(2);
    },
    30_000,
  );
});

describe("the injector handler", () => {
  it("carries fields newer than its SDK through to the injected revision", async () => {
    const { tags: _, ...td } = fargateApp({ family: "future" });
    const input = { ...td, futureTopLevelFeature: { mode: "x" } } as RegisterTaskDefinitionCommandInput;
    (input.containerDefinitions?.[0] as Record<string, unknown>).brandNewContainerField = [1, 2];
    ecs.state.registerTaskDefinition(input, [{ key: "dns-cache", value: "enabled" }]);
    expect(await deliver(registrationEvent("future", 1))).toMatchObject({ outcome: "injected" });
    const [injected] = injectedRevisions("future") as Array<
      Record<string, unknown> & { containerDefinitions: Array<Record<string, unknown>> }
    >;
    expect(injected?.futureTopLevelFeature).toEqual({ mode: "x" });
    expect(injected?.containerDefinitions[0]?.brandNewContainerField).toEqual([1, 2]);
  }, 30_000);

  it("reports partial batch failures for SQS, so one bad message does not retry the others", async () => {
    seed("app");
    seed("app");
    seed("app"); // revision 3: the sample's 7 is not ACTIVE here
    const sample = loadEvent<SQSEvent>("register-sqs.json");
    const record = sample.Records[0];
    if (!record) throw new Error("sample has no record");
    seed("ok");
    seed("broken");
    const event: SQSEvent = {
      Records: [
        { ...record, messageId: "m-ok", body: JSON.stringify(registrationEvent("ok", 1)) },
        { ...record, messageId: "m-garbage", body: "{not json" },
        { ...record, messageId: "m-broken", body: JSON.stringify(registrationEvent("broken", 1)) },
        { ...record, messageId: "m-echo", body: JSON.stringify(loadEvent("register-by-injector.json")) },
      ],
    };
    ecs.setFaults([
      {
        operation: "DescribeTaskDefinition",
        kind: "server-error",
        onCalls: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      },
    ]);
    const response = (await handler(event, lambdaContext())) as {
      batchItemFailures: Array<{ itemIdentifier: string }>;
      results: Outcome[];
    };
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m-broken" }]);
    expect(response.results.map((r) => r.reason)).toEqual(["INJECTED", "MALFORMED_EVENT", "SELF_ECHO"]);
  }, 30_000);

  // Issue 11, defect 1, played for real: the gap check fails after a late copy landed, SQS redelivers.
  it("settles the gap on a retry that finds its late copy newest over a newer source's copy", async () => {
    seed("race");
    ecs.setFaults([
      fault.slow("RegisterTaskDefinition", 400, { times: 1 }),
      fault.next("ListTaskDefinitions", "error", 1, { errorType: "AccessDeniedException" }),
    ]);
    const first = handler(registrationEvent("race", 1), lambdaContext()).then(
      () => undefined,
      (error: unknown) => error,
    );
    while (ecs.calls.count("RegisterTaskDefinition") === 0) await new Promise((r) => setTimeout(r, 5));
    // While revision 1's copy is being registered, the user registers revision 2; it is injected as 3.
    expect(seed("race")).toBe(2);
    expect(await deliver(registrationEvent("race", 2))).toMatchObject({ reason: "INJECTED" });
    // Revision 1's copy lands as 4; its gap check fails, so the invocation fails.
    expect(await first).toMatchObject({ name: "RetryableError" });
    expect(ecs.state.findTaskDefinition("race:4")?.status).toBe("ACTIVE");
    // SQS redelivers: the retry must not stop at "already injected".
    expect(await deliver(registrationEvent("race", 1))).toMatchObject({ reason: "SUPERSEDED" });
    expect(ecs.state.findTaskDefinition("race:4")?.status).toBe("INACTIVE");
    const newest = injectedRevisions("race").at(-1);
    expect(newest?.revision).toBe(3);
    expect(ecs.state.listTagsForResource(newest?.taskDefinitionArn ?? "")).toContainEqual({
      key: MARKER_TAGS.sourceRevision,
      value: "2",
    });
  }, 30_000);

  // Issue 11, defect 3.
  it("leaves the records that no longer fit the remaining time to SQS, untouched", async () => {
    const sample = loadEvent<SQSEvent>("register-sqs.json");
    const record = sample.Records[0];
    if (!record) throw new Error("sample has no record");
    for (const f of ["t1", "t2", "t3"]) seed(f);
    const event: SQSEvent = {
      Records: ["t1", "t2", "t3"].map((f) => ({
        ...record,
        messageId: `m-${f}`,
        body: JSON.stringify(registrationEvent(f, 1)),
      })),
    };
    // Less time left than one record's worst case: the first record is taken, no other is started.
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 90_000 };
    const { result, lines } = await captureStdout(() => handler(event, context));
    const response = result as { batchItemFailures: Array<{ itemIdentifier: string }>; results: Outcome[] };
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m-t2" }, { itemIdentifier: "m-t3" }]);
    expect(response.results.map((r) => r.reason)).toEqual(["INJECTED"]);
    expect(injectedRevisions("t2")).toHaveLength(0);
    expect(ecs.calls.count("DescribeTaskDefinition")).toBe(1);
    expect(lines.join("\n")).toContain('"Deferred":2');
    // With time enough, the whole batch goes through.
    const roomy = { ...lambdaContext(), getRemainingTimeInMillis: () => 299_000 };
    const again = (await handler(event, roomy)) as { batchItemFailures: unknown[] };
    expect(again.batchItemFailures).toEqual([]);
    expect(injectedRevisions("t3")).toHaveLength(1);
  }, 30_000);

  it("logs one line per outcome with its EMF metric, and never the definition's secrets", async () => {
    seed("logged");
    const event = registrationEvent("logged", 1);
    const { result, lines } = await captureStdout(() => handler(event, lambdaContext()));
    expect(result).toMatchObject({ outcome: "injected" });
    const text = lines.join("\n");
    expect(text).not.toContain("example-secret-value-must-never-be-logged");
    expect(text).not.toContain("DB_PASSWORD");
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const emf = records.filter((r) => r._aws);
    expect(emf.some((r) => r.Injected === 1)).toBe(true);
    expect(JSON.stringify(emf)).toContain('"Namespace":"DnsCache"');
  }, 30_000);

  it("tags the injected revision with the source revision, and a second event for it is a no-op", async () => {
    seed("tagged");
    await deliver(registrationEvent("tagged", 1));
    const [injected] = injectedRevisions("tagged");
    const tags = ecs.state.listTagsForResource(injected?.taskDefinitionArn ?? "");
    expect(tags).toContainEqual({ key: MARKER_TAGS.sourceRevision, value: "1" });
    expect(tags).toContainEqual({ key: "dns-cache", value: "enabled" });
    const echo = registrationEvent("tagged", 2, {
      tags: [{ key: MARKER_TAGS.version, value: "x" }],
      session: "dns-cache-injector",
    });
    expect(await deliver(echo)).toMatchObject({ reason: "SELF_ECHO" });
  }, 30_000);
});
