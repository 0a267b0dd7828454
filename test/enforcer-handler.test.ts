import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deploymentEvent, loadEvent } from "./helpers/events.ts";
import { type EcsStandin, startEcsStandin } from "./support/ecs-standin.ts";
import { deployPinned } from "./support/enforcer-world.ts";
import { captureStdout, lambdaContext, loadHandler, startDynamo } from "./support/lambda.ts";

let ecs: EcsStandin;
let dynamo: Awaited<ReturnType<typeof startDynamo>>;
let env: Record<string, string>;

beforeAll(async () => {
  ecs = await startEcsStandin();
  dynamo = await startDynamo("dns-cache-enforcer-handler");
  env = {
    ...ecs.env(),
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    DNS_CACHE_IDEMPOTENCY_TABLE: dynamo.tableName,
    DNS_CACHE_CHECK_STACKS: "off",
    AWS_LAMBDA_FUNCTION_NAME: "dns-cache-enforcer",
    POWERTOOLS_LOG_LEVEL: "INFO",
  };
});
afterAll(async () => {
  await ecs.close();
  await dynamo.close();
});
beforeEach(() => ecs.reset());

type Batch = {
  batchItemFailures: Array<{ itemIdentifier: string }>;
  decisions: Array<Record<string, unknown>>;
};

/** The enforcer runs with a 900 s timeout (a sweep of an organisation takes a while). */
const context = () => ({ ...lambdaContext("dns-cache-enforcer"), getRemainingTimeInMillis: () => 899_000 });

function sqs(bodies: string[]): SQSEvent {
  const record = loadEvent<SQSEvent>("register-sqs.json").Records[0];
  if (!record) throw new Error("sample has no record");
  return { Records: bodies.map((body, i) => ({ ...record, messageId: `m${i}`, body })) };
}

describe("the enforcer handler (the bundle)", () => {
  it("defaults to audit: decides, logs one line and one EMF count per reason, writes nothing", async () => {
    const handler = await loadHandler("enforcer", { ...env, DNS_CACHE_MODE: "" });
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    const { result, lines } = await captureStdout(() =>
      handler(sqs([JSON.stringify(deploymentEvent(serviceArn)), "{not json"]), context()),
    );
    const batch = result as Batch;
    expect(batch.batchItemFailures).toEqual([]);
    expect(batch.decisions.map((d) => d.reason)).toEqual(["WOULD_CONVERGE", "MALFORMED_EVENT"]);
    expect(ecs.calls.count("UpdateService") + ecs.calls.count("RegisterTaskDefinition")).toBe(0);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r.reason === "WOULD_CONVERGE" && r.serviceArn === serviceArn)).toHaveLength(
      1,
    );
    const emf = records.filter((r) => r._aws);
    expect(emf.some((r) => r.Audited === 1 && r.Reason === "WOULD_CONVERGE")).toBe(true);
    expect(JSON.stringify(emf)).toContain('"Namespace":"DnsCache"');
  }, 30_000);

  it("enforces: converges, and a direct scheduled event sweeps", async () => {
    const handler = await loadHandler("enforcer", { ...env, DNS_CACHE_MODE: "enforce" });
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    deployPinned(ecs, "prod", "api", "api");
    const direct = (await handler(deploymentEvent(serviceArn), context())) as {
      decisions: Array<Record<string, unknown>>;
    };
    expect(direct.decisions[0]).toMatchObject({ reason: "CONVERGED" });
    const swept = (await handler(loadEvent("scheduled-sweep.json"), context())) as {
      sweep: { byReason: Record<string, number> };
    };
    expect(swept.sweep.byReason).toEqual({ ROLLOUT_IN_PROGRESS: 1, CONVERGED: 1 });
  }, 30_000);

  it("names the variable when the configuration is wrong", async () => {
    await expect(loadHandler("enforcer", { ...env, DNS_CACHE_MODE: "yes" })).rejects.toThrow(
      /DNS_CACHE_MODE: expected one of enforce, audit/,
    );
    await expect(
      loadHandler("enforcer", { ...env, DNS_CACHE_MODE: "enforce", DNS_CACHE_SWEEP_ACCOUNTS: "12" }),
    ).rejects.toThrow(/DNS_CACHE_SWEEP_ACCOUNTS/);
  });
});
