import {
  ClientException,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  ServerException,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { RetryableError } from "#shared/aws/errors.ts";
import { unguarded } from "#shared/aws/idempotency.ts";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import { inject, serialize } from "#shared/engine/inject.ts";
import { type InjectorConfig, loadInjectorConfig } from "#shared/injector/config.ts";
import {
  handleRegistrationEvent,
  type InjectorDeps,
  type Observer,
  type Outcome,
} from "#shared/injector/flow.ts";
import { loadEvent, registrationEvent } from "./helpers/events.ts";
import { fargateApp } from "./helpers/fixtures.ts";

const ecsMock = mockClient(ECSClient);
const arn = (revision: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/app:${revision}`;
const ecs = new ECSClient({
  region: "us-east-1",
  maxAttempts: 1,
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
});

const baseConfig: InjectorConfig = loadInjectorConfig({
  DNS_CACHE_IDEMPOTENCY_TABLE: "t",
  AWS_LAMBDA_FUNCTION_NAME: "dns-cache-injector-fn",
});

function deps(config: Partial<InjectorConfig> = {}): InjectorDeps {
  return { config: { ...baseConfig, ...config }, ecsFor: () => ecs, guard: unguarded };
}

function recorder(): Observer & { outcomes: Outcome[]; retries: RetryableError[] } {
  const outcomes: Outcome[] = [];
  const retries: RetryableError[] = [];
  return { outcomes, retries, outcome: (o) => outcomes.push(o), retry: (e) => retries.push(e) };
}

function described(
  revision: number,
  tags = [{ key: "dns-cache", value: "enabled" }],
  overrides: Partial<TaskDefinition> = {},
) {
  const { tags: _, ...td } = fargateApp();
  return {
    taskDefinition: {
      ...(td as TaskDefinition),
      taskDefinitionArn: `arn:aws:ecs:us-east-1:123456789012:task-definition/app:${revision}`,
      revision,
      status: "ACTIVE" as const,
      registeredAt: new Date("2026-11-25T10:15:32Z"),
      compatibilities: ["EC2" as const, "FARGATE" as const],
      ...overrides,
    },
    tags,
  };
}

beforeEach(() => ecsMock.reset());

/** The tags of our copy of `source` as this version makes it with the default options. */
function currentMarkers(source: number) {
  const made = inject(described(source), { deployment: baseConfig.options, sourceRevision: source });
  if (made.outcome !== "injected") throw new Error("the fixture must inject");
  return (made.definition.tags ?? []).map((t) => ({ key: t.key ?? "", value: t.value ?? "" }));
}

async function run(event: unknown, d = deps()) {
  const obs = recorder();
  const outcome = await handleRegistrationEvent(event, d, obs);
  expect(obs.outcomes).toEqual([outcome]);
  return outcome;
}

describe("the injector", () => {
  it("registers the injected definition with the source's tags plus its markers, in two ECS calls", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(
      described(7, [
        { key: "dns-cache", value: "enabled" },
        { key: "team", value: "payments" },
      ]),
    );
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:8",
        revision: 8,
      },
    });
    const outcome = await run(loadEvent("register-tagged.json"));
    expect(outcome).toEqual({
      outcome: "injected",
      reason: "INJECTED",
      family: "app",
      taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7",
      injectedTaskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:8",
    });
    // Described by family: the newest ACTIVE revision, with its tags; never the event's body.
    expect(ecsMock).toHaveReceivedCommandWith(DescribeTaskDefinitionCommand, {
      taskDefinition: "app",
      include: ["TAGS"],
    });
    expect(ecsMock).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
    const input = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(input?.containerDefinitions?.map((c) => c.name)).toEqual(["app", "dns-cache-init", "dns-cache"]);
    expect(input?.tags).toEqual([
      { key: "dns-cache", value: "enabled" },
      { key: "team", value: "payments" },
      { key: MARKER_TAGS.version, value: expect.any(String) },
      { key: MARKER_TAGS.options, value: expect.any(String) },
      { key: MARKER_TAGS.sourceRevision, value: "7" },
    ]);
    expect(input).not.toHaveProperty("registeredAt");
    expect(input).not.toHaveProperty("revision");
    expect(ecsMock.calls()).toHaveLength(2);
  });

  it("registers a bridge definition with dnsServers pointing at the node cache, and no sidecar", async () => {
    const { tags: _, ...td } = fargateApp();
    const bridge = {
      ...described(7, [{ key: "dns-cache", value: "enabled" }]),
      taskDefinition: {
        ...(td as TaskDefinition),
        networkMode: "bridge" as const,
        requiresCompatibilities: ["EC2" as const],
        cpu: undefined,
        memory: undefined,
        containerDefinitions: [
          { name: "app", image: "app:1", memoryReservation: 256, essential: true, dnsServers: ["10.0.0.2"] },
        ],
        taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7",
        revision: 7,
        status: "ACTIVE" as const,
        compatibilities: ["EC2" as const],
      },
    };
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(bridge);
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:8",
        revision: 8,
      },
    });
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "injected",
      reason: "INJECTED",
    });
    const input = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(input?.networkMode).toBe("bridge");
    expect(input?.containerDefinitions?.map((c) => c.name)).toEqual(["app"]);
    expect(input?.containerDefinitions?.[0]?.dnsServers).toEqual([
      "169.254.20.10",
      "169.254.169.253",
      "10.0.0.2",
    ]);
    expect(input?.tags?.map((t) => t.key)).toEqual([
      "dns-cache",
      MARKER_TAGS.version,
      MARKER_TAGS.options,
      MARKER_TAGS.sourceRevision,
    ]);
    expect(input).not.toHaveProperty("volumes");
  });

  it("drops its own registrations without any call", async () => {
    const outcome = await run(loadEvent("register-by-injector.json"));
    expect(outcome).toMatchObject({ outcome: "skipped", reason: "SELF_ECHO" });
    expect(ecsMock.calls()).toHaveLength(0);
    const byFunctionRole = await run(registrationEvent("app", 9, { session: "dns-cache-injector-fn" }));
    expect(byFunctionRole).toMatchObject({ outcome: "skipped", reason: "SELF_ECHO" });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it("in single-account mode, ignores events forwarded from another account or region, without any call", async () => {
    const home = { account: "123456789012", region: "eu-west-1" };
    expect(await run(loadEvent("register-tagged.json"), { ...deps(), home })).toMatchObject({
      outcome: "skipped",
      reason: "FOREIGN_EVENT",
    });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it("leaves definitions registered already injected (by the CLI) alone, without any call", async () => {
    const marked = registrationEvent("app", 9, { tags: [{ key: MARKER_TAGS.version, value: "0.1.0" }] });
    expect(await run(marked)).toMatchObject({ outcome: "skipped", reason: "ALREADY_INJECTED" });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it("skips definitions that are not opted in, or opted out, with no registration", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7, []));
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "skipped",
      reason: "NOT_OPTED_IN",
    });
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .resolves(described(7, [{ key: "dns-cache", value: "disabled" }]));
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "skipped",
      reason: "OPTED_OUT",
    });
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7, [{ key: "platform/dns", value: "on" }]));
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:8",
        revision: 8,
      },
    });
    expect(
      await run(loadEvent("register-tagged.json"), deps({ optIn: { key: "platform/dns", value: "on" } })),
    ).toMatchObject({
      outcome: "injected",
    });
    expect(ecsMock).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
  });

  it("trusts the described tags, not the event's (which can be truncated or stale)", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7, []));
    const event = registrationEvent("app", 7, { tags: [{ key: "dns-cache", value: "enabled" }] });
    expect(await run(event)).toMatchObject({ reason: "NOT_OPTED_IN" });
  });

  it("never rolls a family back: an older revision than the newest ACTIVE one is skipped", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(9));
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "skipped",
      reason: "SUPERSEDED",
    });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("skips a source whose injected revision already exists (a redelivered event)", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(8, currentMarkers(7)));
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "skipped",
      reason: "ALREADY_INJECTED",
      injectedTaskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:8",
    });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("skips deregistered and unknown sources", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(6));
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({ reason: "SOURCE_INACTIVE" });
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .rejects(new ClientException({ message: "Unable to describe task definition.", $metadata: {} }));
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({ reason: "SOURCE_NOT_FOUND" });
  });

  it("reports the engine's refusals with their reason codes and registers nothing", async () => {
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .resolves(described(7, undefined, { networkMode: "host", requiresCompatibilities: ["EC2"] }));
    const outcome = await run(loadEvent("register-tagged.json"));
    expect(outcome).toMatchObject({
      outcome: "refused",
      reason: "NETWORK_MODE_NOT_AWSVPC",
      reasons: ["NETWORK_MODE_NOT_AWSVPC"],
    });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("applies deployment options, overridden by the family's tags", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(
      described(7, [
        { key: "dns-cache", value: "enabled" },
        { key: "dns-cache:fallback", value: "on" },
      ]),
    );
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:8",
        revision: 8,
      },
    });
    await run(
      loadEvent("register-tagged.json"),
      deps({ options: { fallback: false, upstreams: ["10.9.0.2"] } }),
    );
    const script = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input
      .containerDefinitions?.[1]?.command?.[0];
    expect(script).toContain("fallback=on");
    expect(script).toContain("fixed_upstreams='10.9.0.2'");
  });

  it("writes ECR Public images through the task account's pull-through cache when one is configured", async () => {
    const registered = async (config: Partial<InjectorConfig>) => {
      ecsMock.reset();
      ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
      ecsMock.on(RegisterTaskDefinitionCommand).resolves({
        taskDefinition: { taskDefinitionArn: arn(8), revision: 8 },
      });
      await run(loadEvent("register-tagged.json"), deps(config));
      const input = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
      return input?.containerDefinitions?.slice(1).map((c) => c.image);
    };
    const mirrored = await registered({ pullThrough: { prefix: "dns-cache-ecr-public" } });
    expect(mirrored).toEqual([
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/dns-cache-ecr-public/docker/library/busybox:1.37.0-musl",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/dns-cache-ecr-public/eks-distro/coredns/coredns:v1.13.2-eks-1-36-1",
    ]);
    // Organisation mode: only the central account and region have the rule; others keep ECR Public.
    const elsewhere = await registered({
      pullThrough: { prefix: "dns-cache-ecr-public", onlyAccount: "999988887777", onlyRegion: "us-east-1" },
    });
    expect(elsewhere?.every((image) => image?.startsWith("public.ecr.aws/"))).toBe(true);
    const otherRegion = await registered({
      pullThrough: { prefix: "dns-cache-ecr-public", onlyAccount: "123456789012", onlyRegion: "eu-west-1" },
    });
    expect(otherRegion?.every((image) => image?.startsWith("public.ecr.aws/"))).toBe(true);
  });

  it("registers nothing in audit mode", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
    expect(await run(loadEvent("register-tagged.json"), deps({ mode: "audit" }))).toMatchObject({
      outcome: "audited",
      reason: "WOULD_INJECT",
    });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("retries ECS's concurrent-revision ClientException, then gives up as retryable", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
    const concurrent = new ClientException({
      message: "Too many concurrent attempts to create a new revision of the specified family.",
      $metadata: {},
    });
    ecsMock
      .on(RegisterTaskDefinitionCommand)
      .rejectsOnce(concurrent)
      .resolves({
        taskDefinition: {
          taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:8",
          revision: 8,
        },
      });
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({ outcome: "injected" });
    expect(ecsMock).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 2);

    ecsMock.reset();
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
    ecsMock.on(RegisterTaskDefinitionCommand).rejects(concurrent);
    const obs = recorder();
    await expect(
      handleRegistrationEvent(loadEvent("register-tagged.json"), deps(), obs),
    ).rejects.toMatchObject({ reason: "CONCURRENT_REVISION" });
    expect(obs.retries.map((e) => e.reason)).toEqual(["CONCURRENT_REVISION"]);
  }, 20_000);

  it("throws what the SDK could not retry away, so the event is retried and finally dead-lettered", async () => {
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .rejects(new ServerException({ message: "boom", $metadata: { httpStatusCode: 500 } }));
    const obs = recorder();
    await expect(
      handleRegistrationEvent(loadEvent("register-tagged.json"), deps(), obs),
    ).rejects.toBeInstanceOf(RetryableError);
    expect(obs.retries[0]?.reason).toBe("ECS_UNAVAILABLE");
    expect(obs.outcomes).toEqual([]);
  });

  it("reports a definition ECS rejects as failed, without retrying it forever", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
    ecsMock
      .on(RegisterTaskDefinitionCommand)
      .rejects(new ClientException({ message: "Invalid setting for container", $metadata: {} }));
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "failed",
      reason: "REGISTER_REJECTED",
    });
  });

  it("deregisters its revision when another one was registered in between", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
    ecsMock
      .on(DescribeTaskDefinitionCommand, { taskDefinition: "app:8" })
      .resolves(described(8, [{ key: "dns-cache", value: "enabled" }]));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [9, 8, 7].map(arn) });
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:9",
        revision: 9,
      },
    });
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "skipped",
      reason: "SUPERSEDED",
    });
    expect(ecsMock).toHaveReceivedCommandWith(DeregisterTaskDefinitionCommand, {
      taskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:9",
    });
  });

  it.each([
    ["register-failed.json", "REGISTRATION_FAILED"],
    ["register-sqs.json", "NOT_A_REGISTRATION_EVENT"],
  ])("classifies %s without any call", async (name, reason) => {
    expect(await run(loadEvent(name))).toMatchObject({ outcome: "skipped", reason });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it("accepts a round trip of its own output as the source (re-described injected revision)", async () => {
    const injectedTd = JSON.parse(serialize(fargateApp()));
    ecsMock
      .on(DescribeTaskDefinitionCommand)
      .resolves(described(7, [{ key: "dns-cache", value: "enabled" }], injectedTd));
    ecsMock.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: {
        taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:8",
        revision: 8,
      },
    });
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({ outcome: "injected" });
  });
});

describe("revisions registered concurrently", () => {
  const registers = (revision: number) =>
    ecsMock
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: arn(revision), revision } });
  const marked = (source: number) => currentMarkers(source);

  it("keeps its revision when what lies in between is deregistered or its own copy of an older source", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:9" }).resolves(described(9, marked(6)));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [10, 9, 7].map(arn) }); // 8 is INACTIVE
    registers(10);
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "injected",
      injectedTaskDefinitionArn: arn(10),
    });
    expect(ecsMock).not.toHaveReceivedCommand(DeregisterTaskDefinitionCommand);
  });

  it("keeps the earlier copy when a retried request had registered it already", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:8" }).resolves(described(8, marked(7)));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [9, 8, 7].map(arn) });
    registers(9);
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "injected",
      injectedTaskDefinitionArn: arn(8),
    });
    expect(ecsMock).toHaveReceivedCommandWith(DeregisterTaskDefinitionCommand, { taskDefinition: arn(9) });
  });

  it("injects a source whose family's newest revision is its copy of an older source", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app" }).resolves(described(8, marked(6)));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:8" }).resolves(described(8, marked(6)));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:7" }).resolves(described(7));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [9, 8, 7].map(arn) });
    registers(9);
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "injected",
      injectedTaskDefinitionArn: arn(9),
    });
    const tags = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input.tags;
    expect(tags).toContainEqual({ key: MARKER_TAGS.sourceRevision, value: "7" });
  });

  it("still skips a source superseded by a copy of a newer source", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app" }).resolves(described(9, marked(8)));
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "skipped",
      reason: "SUPERSEDED",
    });
  });

  it("uses the family's newest revision when CloudTrail left the response out", async () => {
    const event = loadEvent("register-tagged.json");
    (event.detail as Record<string, unknown>).responseElements = null;
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
    registers(8);
    expect(await run(event)).toMatchObject({
      outcome: "injected",
      taskDefinitionArn: arn(7),
      injectedTaskDefinitionArn: arn(8),
    });
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(8, marked(7)));
    expect(await run(event)).toMatchObject({ outcome: "skipped", reason: "ALREADY_INJECTED" });
  });

  // Issue 11, defect 1: a retried event must settle the gap too, not only right after our registration.
  it("deregisters our copy when a retried event finds it newest but burying a newer source's copy", async () => {
    // 7 = the source; 8 = the user's next revision, injected as 9; our copy of 7 landed late as 10.
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app" }).resolves(described(10, marked(7)));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:8" }).resolves(described(8));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:9" }).resolves(described(9, marked(8)));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [10, 9, 8, 7].map(arn) });
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      outcome: "skipped",
      reason: "SUPERSEDED",
    });
    expect(ecsMock).toHaveReceivedCommandWith(DeregisterTaskDefinitionCommand, { taskDefinition: arn(10) });
    expect(ecsMock).not.toHaveReceivedCommand(RegisterTaskDefinitionCommand);
  });

  it("deregisters our late copy that buries an opted-out revision registered after its source", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app" }).resolves(described(9, marked(7)));
    ecsMock
      .on(DescribeTaskDefinitionCommand, { taskDefinition: "app:8" })
      .resolves(described(8, [{ key: "dns-cache", value: "disabled" }]));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [9, 8, 7].map(arn) });
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({ reason: "SUPERSEDED" });
    expect(ecsMock).toHaveReceivedCommandWith(DeregisterTaskDefinitionCommand, { taskDefinition: arn(9) });
  });

  it("keeps our copy on a retry when only deregistered revisions or our older copies lie between", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app" }).resolves(described(10, marked(7)));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:9" }).resolves(described(9, marked(5)));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [10, 9, 7].map(arn) });
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      reason: "ALREADY_INJECTED",
      injectedTaskDefinitionArn: arn(10),
    });
    expect(ecsMock).not.toHaveReceivedCommand(DeregisterTaskDefinitionCommand);
  });

  it("keeps the earlier of two copies of one source when a retry finds the later one newest", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app" }).resolves(described(9, marked(7)));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:8" }).resolves(described(8, marked(7)));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [9, 8, 7].map(arn) });
    expect(await run(loadEvent("register-tagged.json"))).toMatchObject({
      reason: "ALREADY_INJECTED",
      injectedTaskDefinitionArn: arn(8),
    });
    expect(ecsMock).toHaveReceivedCommandWith(DeregisterTaskDefinitionCommand, { taskDefinition: arn(9) });
  });

  // Issue 11, defect 2: CloudTrail truncates large responses.
  it.each([
    ["omitted", { omitted: true, originalSize: 312_000 }],
    ["an empty task definition", { taskDefinition: {} }],
    ["a task definition without its ARN", { taskDefinition: { family: "app" } }],
  ])("takes the family's newest revision when the response is %s", async (_, responseElements) => {
    const event = loadEvent("register-tagged.json");
    (event.detail as Record<string, unknown>).responseElements = responseElements;
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(7));
    registers(8);
    expect(await run(event)).toMatchObject({
      outcome: "injected",
      taskDefinitionArn: arn(7),
      injectedTaskDefinitionArn: arn(8),
    });
  });

  it("does not skip a real source because a copy awaiting deregistration is newest (response left out)", async () => {
    const event = loadEvent("register-tagged.json");
    (event.detail as Record<string, unknown>).responseElements = { omitted: true };
    // 8 = the source this event is about; 9 = our copy of 6, landed late, not yet deregistered.
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app" }).resolves(described(9, marked(6)));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:8" }).resolves(described(8));
    ecsMock.on(DescribeTaskDefinitionCommand, { taskDefinition: "app:9" }).resolves(described(9, marked(6)));
    ecsMock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [9, 8, 6].map(arn) });
    registers(10);
    expect(await run(event)).toMatchObject({
      outcome: "injected",
      taskDefinitionArn: arn(8),
      injectedTaskDefinitionArn: arn(10),
    });
    const tags = ecsMock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input.tags;
    expect(tags).toContainEqual({ key: MARKER_TAGS.sourceRevision, value: "8" });
  });
});

describe("configuration", () => {
  it("names the variable that is wrong", () => {
    expect(() => loadInjectorConfig({ DNS_CACHE_MODE: "yolo" })).toThrow(
      /^DNS_CACHE_MODE: expected one of inject, audit, got "yolo"$/,
    );
    expect(() => loadInjectorConfig({})).toThrow(/DNS_CACHE_IDEMPOTENCY_TABLE: is required/);
    expect(() => loadInjectorConfig({ DNS_CACHE_MODE: "audit", DNS_CACHE_OPT_IN_TAG: "novalue" })).toThrow(
      /DNS_CACHE_OPT_IN_TAG: expected key=value/,
    );
    expect(() => loadInjectorConfig({ DNS_CACHE_MODE: "audit", DNS_CACHE_FALLBACK: "sometimes" })).toThrow(
      /^DNS_CACHE_FALLBACK: expected on or off/,
    );
    expect(() =>
      loadInjectorConfig({ DNS_CACHE_MODE: "audit", DNS_CACHE_OPT_OUT_TAG: "dns-cache=enabled" }),
    ).toThrow(/DNS_CACHE_OPT_OUT_TAG/);
  });

  it("reads the pull-through cache prefix, limited to the central account and region in organisation mode", () => {
    const base = { DNS_CACHE_MODE: "audit", DNS_CACHE_ECR_PULL_THROUGH_PREFIX: "dns-cache-ecr-public" };
    expect(loadInjectorConfig(base).pullThrough).toEqual({ prefix: "dns-cache-ecr-public" });
    expect(loadInjectorConfig({ DNS_CACHE_MODE: "audit" }).pullThrough).toBeUndefined();
    expect(
      loadInjectorConfig({ ...base, DNS_CACHE_ECR_PULL_THROUGH_PREFIX: "" }).pullThrough,
    ).toBeUndefined();
    expect(
      loadInjectorConfig({
        ...base,
        DNS_CACHE_MEMBER_ROLE_NAME: "dns-cache-member",
        DNS_CACHE_CENTRAL_ACCOUNT: "111122223333",
        AWS_REGION: "eu-west-1",
      }).pullThrough,
    ).toEqual({ prefix: "dns-cache-ecr-public", onlyAccount: "111122223333", onlyRegion: "eu-west-1" });
    for (const bad of ["A", "x", "Upper/case", "trailing/", "a".repeat(31), "two//slashes"]) {
      expect(() => loadInjectorConfig({ ...base, DNS_CACHE_ECR_PULL_THROUGH_PREFIX: bad }), bad).toThrow(
        /^DNS_CACHE_ECR_PULL_THROUGH_PREFIX: /,
      );
    }
  });

  it("reads defaults and engine options", () => {
    const config = loadInjectorConfig({
      DNS_CACHE_MODE: "audit",
      DNS_CACHE_UPSTREAM: "10.0.0.2",
      DNS_CACHE_MEMORY: "48",
    });
    expect(config).toMatchObject({
      mode: "audit",
      optIn: { key: "dns-cache", value: "enabled" },
      optOut: { key: "dns-cache", value: "disabled" },
    });
    expect(config.options).toEqual({ upstreams: ["10.0.0.2"], memoryReservation: 48 });
  });
});
