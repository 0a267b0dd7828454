import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { handleEnforcerEvent } from "#shared/enforcer/flow.ts";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import { inject } from "#shared/engine/inject.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import { handleRegistrationEvent } from "#shared/injector/flow.ts";
import { deploymentEvent, loadEvent, registrationEvent, tagResourceEvent } from "./helpers/events.ts";
import { type EcsStandin, fault, startEcsStandin } from "./support/ecs-standin.ts";
import { appDefinition, deployPinned, enforcerWorld, OPT_IN, type World } from "./support/enforcer-world.ts";
import { startDynamo } from "./support/lambda.ts";

let ecs: EcsStandin;
let dynamo: Awaited<ReturnType<typeof startDynamo>>;
let table = 0;

beforeAll(async () => {
  ecs = await startEcsStandin();
  dynamo = await startDynamo();
});
afterAll(async () => {
  await ecs.close();
  await dynamo.close();
});

/** A fresh table per test: the guard and the memory start empty. */
async function freshWorld(options: Parameters<typeof enforcerWorld>[1] = {}): Promise<World> {
  const { CreateTableCommand } = await import("@aws-sdk/client-dynamodb");
  const { dynamoClient } = await import("./support/enforcer-world.ts");
  const tableName = `enforcer-${++table}`;
  await dynamoClient(dynamo.url).send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  return enforcerWorld(ecs, { dynamo: { url: dynamo.url, tableName }, ...options });
}

beforeEach(() => ecs.reset());

async function completed(world: World, serviceArn: string) {
  const report = await handleEnforcerEvent(deploymentEvent(serviceArn), world.deps, world.observer);
  return report.decisions[0];
}

const reads = () =>
  ecs.calls.count("DescribeServices") +
  ecs.calls.count("DescribeTaskDefinition") +
  ecs.calls.count("ListTaskDefinitions");
const writes = () =>
  ecs.calls.count("RegisterTaskDefinition") +
  ecs.calls.count("UpdateService") +
  ecs.calls.count("DeregisterTaskDefinition");

describe("the enforcer on a completed deployment", () => {
  it("injects the pinned revision and moves the service to the copy, in ≤ 4 reads, 1 registration, 1 update", async () => {
    const world = await freshWorld();
    const { serviceArn, taskDefinitionArn } = deployPinned(ecs, "prod", "web", "web");
    ecs.calls.reset();
    const decision = await completed(world, serviceArn);
    expect(decision).toMatchObject({
      outcome: "converged",
      reason: "CONVERGED",
      taskDefinitionArn,
      copyArn: expect.stringMatching(/task-definition\/web:2$/),
    });
    expect(reads()).toBeLessThanOrEqual(4);
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(1);
    expect(ecs.calls.count("UpdateService")).toBe(1);
    // UpdateService(cluster, service, taskDefinition) and nothing else.
    const update = ecs.calls.list("UpdateService")[0]?.input as Record<string, unknown>;
    expect(Object.keys(update).sort()).toEqual(["cluster", "service", "taskDefinition"]);
    expect(update.taskDefinition).toBe(decision?.copyArn);
    const copyTags = ecs.state.listTagsForResource(String(decision?.copyArn));
    expect(copyTags).toContainEqual({ key: MARKER_TAGS.sourceRevision, value: "1" });
  });

  it("ends its own deployment's COMPLETED event with 1 read and 0 writes", async () => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    await completed(world, serviceArn);
    ecs.state.completeDeployment(serviceArn);
    ecs.calls.reset();
    expect(await completed(world, serviceArn)).toMatchObject({ outcome: "left", reason: "ALREADY_INJECTED" });
    expect(reads()).toBe(1);
    expect(writes()).toBe(0);
  });

  it("shares the copy with the injector: the late CloudTrail event finds it (one copy per source)", async () => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    const decision = await completed(world, serviceArn);
    const injector = {
      config: loadInjectorConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: "x" }),
      ecsFor: () => world.deps.ecsFor({ account: "", region: "" }),
      guard: world.deps.guard,
    };
    const outcome = await handleRegistrationEvent(registrationEvent("web", 1), injector, {
      outcome: () => {},
      retry: () => {},
    });
    expect(outcome).toMatchObject({ injectedTaskDefinitionArn: decision?.copyArn });
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(1);
  });

  it("finds the injector's copy when the injector got there first", async () => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    const injector = {
      config: loadInjectorConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: "x" }),
      ecsFor: () => world.deps.ecsFor({ account: "", region: "" }),
      guard: world.deps.guard,
    };
    const injected = await handleRegistrationEvent(registrationEvent("web", 1), injector, {
      outcome: () => {},
      retry: () => {},
    });
    ecs.calls.reset();
    expect(await completed(world, serviceArn)).toMatchObject({
      reason: "CONVERGED",
      copyArn: injected.injectedTaskDefinitionArn,
    });
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(0);
    expect(reads()).toBeLessThanOrEqual(4);
  });

  it.each([
    ["a deleted service", "SERVICE_NOT_ACTIVE", (arn: string) => ecs.state.deleteService(arn)],
    [
      "a rollout in progress",
      "ROLLOUT_IN_PROGRESS",
      (arn: string) => {
        const td = ecs.state.registerTaskDefinition(appDefinition("web"), [OPT_IN]).taskDefinition;
        ecs.state.updateService({ cluster: "prod", service: arn, taskDefinition: td.taskDefinitionArn });
      },
    ],
    [
      "a service tagged with the opt-out tag",
      "SERVICE_OPTED_OUT",
      (arn: string) => ecs.state.tagResource(arn, [{ key: "dns-cache", value: "disabled" }]),
    ],
  ])("leaves alone %s (%s)", async (_, reason, change) => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    change(serviceArn);
    expect(await completed(world, serviceArn)).toMatchObject({ outcome: "left", reason });
    expect(writes()).toBe(0);
  });

  it("leaves alone CODE_DEPLOY services, with the advice to inject in the pipeline", async () => {
    const world = await freshWorld();
    const td = ecs.state.registerTaskDefinition(appDefinition("bg"), [OPT_IN]).taskDefinition;
    ecs.state.addCluster("prod");
    const svc = ecs.state.createService({
      cluster: "prod",
      serviceName: "bg",
      taskDefinition: td.taskDefinitionArn,
      deploymentController: { type: "CODE_DEPLOY" },
    });
    expect(await completed(world, svc.serviceArn ?? "")).toMatchObject({
      reason: "CONTROLLER_NOT_ECS",
      advice: expect.stringContaining("dns-cache inject"),
    });
    expect(writes()).toBe(0);
  });

  it.each([
    ["not opted in", "NOT_OPTED_IN", { tags: [] }],
    ["opted out", "OPTED_OUT", { tags: [{ key: "dns-cache", value: "disabled" }] }],
    [
      "refused by the engine (nine containers)",
      "TOO_MANY_CONTAINERS",
      {
        definition: {
          containerDefinitions: Array.from({ length: 9 }, (_, i) => ({
            name: `c${i}`,
            image: "public.ecr.aws/docker/library/busybox:1.37-musl",
            essential: i === 0,
            memoryReservation: 16,
          })),
        },
      },
    ],
  ])("leaves alone a revision %s (%s)", async (_, reason, options) => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web", options);
    expect(await completed(world, serviceArn)).toMatchObject({ reason });
    expect(writes()).toBe(0);
  });

  it("moves every family to the copy with DNS_CACHE_OPT_IN=all, except those opted out", async () => {
    const world = await freshWorld({ env: { DNS_CACHE_OPT_IN: "all" } });
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web", { tags: [] });
    expect(await completed(world, serviceArn)).toMatchObject({ reason: "CONVERGED" });
  });

  it("leaves alone revisions injected already: by the CLI (markers) or carried forward by ecs-deploy (containers only)", async () => {
    const world = await freshWorld();
    const made = inject({ ...appDefinition("cli"), tags: [OPT_IN] });
    if (made.outcome !== "injected") throw new Error("fixture must inject");
    const { tags, ...definition } = made.definition;
    const cli = ecs.state.registerTaskDefinition(definition as never, tags as never).taskDefinition;
    // ecs-deploy re-registers the running definition (our containers and labels) without its tags.
    const carried = ecs.state.registerTaskDefinition(definition as never, [OPT_IN]).taskDefinition;
    ecs.state.addCluster("prod");
    for (const [name, td] of [
      ["cli", cli],
      ["carried", carried],
    ] as const) {
      const svc = ecs.state.createService({
        cluster: "prod",
        serviceName: name,
        taskDefinition: td.taskDefinitionArn,
      });
      expect(await completed(world, svc.serviceArn ?? ""), name).toMatchObject({
        reason: "ALREADY_INJECTED",
      });
    }
    expect(writes()).toBe(0);
  });

  it("never copies an older revision (NO_COPY_FOR_OLDER_REVISION) but moves to an existing copy of it", async () => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    ecs.state.registerTaskDefinition(appDefinition("web"), [OPT_IN]); // revision 2, not deployed
    expect(await completed(world, serviceArn)).toMatchObject({ reason: "NO_COPY_FOR_OLDER_REVISION" });
    expect(writes()).toBe(0);

    // Another service runs "old": its copy was made while it was the newest.
    ecs.reset();
    const world2 = await freshWorld();
    const old = deployPinned(ecs, "prod", "old", "old");
    const copy = await completed(world2, old.serviceArn);
    ecs.state.completeDeployment(old.serviceArn);
    // The owner puts 1 back on a second service, and registers revision 3 meanwhile.
    const other = ecs.state.createService({
      cluster: "prod",
      serviceName: "other",
      taskDefinition: old.taskDefinitionArn,
    });
    ecs.state.registerTaskDefinition(appDefinition("old"), [OPT_IN]);
    ecs.calls.reset();
    expect(await completed(world2, other.serviceArn ?? "")).toMatchObject({
      reason: "CONVERGED",
      copyArn: copy?.copyArn,
    });
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(0);
    expect(reads()).toBeLessThanOrEqual(4);
  });

  it("reports a Terraform-style revert once (REVERTED_BY_OWNER), and decides again for a new revision", async () => {
    const world = await freshWorld();
    const { serviceArn, taskDefinitionArn } = deployPinned(ecs, "prod", "web", "web", {
      serviceTags: [{ key: "ManagedBy", value: "terraform" }],
    });
    await completed(world, serviceArn);
    ecs.state.completeDeployment(serviceArn);
    // terraform apply: task_definition = web:1 again.
    ecs.state.updateService({ cluster: "prod", service: serviceArn, taskDefinition: taskDefinitionArn });
    ecs.state.completeDeployment(serviceArn);
    ecs.calls.reset();
    const first = await completed(world, serviceArn);
    const second = await completed(world, serviceArn);
    expect(first).toMatchObject({
      reason: "REVERTED_BY_OWNER",
      alerted: true,
      advice: expect.stringContaining("ignore_changes"),
    });
    expect(second).toMatchObject({ reason: "REVERTED_BY_OWNER", alerted: false });
    expect(world.alerts).toHaveLength(1);
    expect(world.alerts[0]).toMatchObject({
      detailType: "DNS Cache Enforcement Reverted",
      resources: [serviceArn],
    });
    expect(ecs.calls.count("UpdateService")).toBe(0);
    // A new source revision is a new decision.
    deployPinned(ecs, "prod", "web", "web");
    expect(await completed(world, serviceArn)).toMatchObject({ reason: "CONVERGED" });
  });

  it("skips a service whose CloudFormation stack is in progress (STACK_IN_PROGRESS)", async () => {
    const cfnMock = mockClient(CloudFormationClient);
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: "app", StackStatus: "UPDATE_IN_PROGRESS", CreationTime: new Date() }],
    });
    const cfn = new CloudFormationClient({
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    const world = await freshWorld({ cfn });
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    // aws: tags cannot be set through the API; the stand-in's state takes them as CloudFormation would.
    (ecs.state as unknown as { tags: Map<string, unknown[]> }).tags.set(serviceArn, [
      { key: "aws:cloudformation:stack-name", value: "app" },
    ]);
    expect(await completed(world, serviceArn)).toMatchObject({ reason: "STACK_IN_PROGRESS" });
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: "app", StackStatus: "UPDATE_COMPLETE", CreationTime: new Date() }],
    });
    expect(await completed(world, serviceArn)).toMatchObject({ reason: "CONVERGED" });
    cfnMock.restore();
  });

  it("audit mode: every decision, zero writes", async () => {
    const world = enforcerWorld(ecs, { env: { DNS_CACHE_MODE: "audit" } });
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    expect(await completed(world, serviceArn)).toMatchObject({
      outcome: "audited",
      reason: "WOULD_CONVERGE",
    });
    expect(writes()).toBe(0);
  });
});

describe("the enforcer under faults", () => {
  it("ends a service deleted between read and write as SERVICE_GONE", async () => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    ecs.setFaults([fault.next("UpdateService", "error", 1, { errorType: "ServiceNotFoundException" })]);
    expect(await completed(world, serviceArn)).toMatchObject({ outcome: "left", reason: "SERVICE_GONE" });
  });

  it("reports UpdateService's refusal (InvalidParameterException) as UPDATE_REJECTED, not retried", async () => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    ecs.setFaults([fault.next("UpdateService", "error", 1, { errorType: "InvalidParameterException" })]);
    expect(await completed(world, serviceArn)).toMatchObject({
      outcome: "failed",
      reason: "UPDATE_REJECTED",
    });
    expect(ecs.calls.count("UpdateService")).toBe(1);
  });

  it("ends a service changed between read and write as SERVICE_CHANGED, without touching it", async () => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    ecs.setFaults([fault.slow("RegisterTaskDefinition", 300, { times: 1 })]);
    const pending = completed(world, serviceArn);
    while (ecs.calls.count("RegisterTaskDefinition") === 0) await new Promise((r) => setTimeout(r, 5));
    const pipeline = ecs.state.registerTaskDefinition(appDefinition("other"), []).taskDefinition;
    ecs.state.updateService({
      cluster: "prod",
      service: serviceArn,
      taskDefinition: pipeline.taskDefinitionArn,
    });
    expect(await pending).toMatchObject({ reason: "SERVICE_CHANGED" });
    expect(ecs.calls.count("UpdateService")).toBe(0);
  });

  it("moves once and registers once when one event arrives three times at once", async () => {
    const world = await freshWorld();
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    ecs.setFaults([fault.slow("RegisterTaskDefinition", 200)]);
    const deliver = async (): Promise<string> => {
      for (let i = 0; i < 30; i++) {
        try {
          return String((await completed(world, serviceArn))?.reason);
        } catch {
          await new Promise((r) => setTimeout(r, 50 * (i + 1)));
        }
      }
      return "GAVE_UP";
    };
    const reasons = await Promise.all([deliver(), deliver(), deliver()]);
    expect(ecs.calls.count("UpdateService")).toBe(1);
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(1);
    expect(reasons.filter((r) => r === "CONVERGED")).toHaveLength(1);
  }, 30_000);

  // A soak of the SDK's adaptive retry (seconds of backoff): it pins the adapters, not the logic mutated.
  it.skipIf(process.env.DNS_CACHE_MUTATION_RUN)(
    "converges under 50% throttling of every call (adaptive retry), then throws what still fails",
    async () => {
      const world = await freshWorld();
      const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
      ecs.setFaults({ seed: 5, rules: [fault.sometimes("*", "throttle", 0.5)] });
      expect(await completed(world, serviceArn)).toMatchObject({ reason: "CONVERGED" });
      ecs.setFaults([fault.always("DescribeServices", "server-error")]);
      await expect(completed(world, serviceArn)).rejects.toMatchObject({
        name: "RetryableError",
        reason: "ECS_UNAVAILABLE",
      });
    },
    60_000,
  );

  it.each([
    ["an unknown event", { source: "aws.s3", "detail-type": "Object Created" }, "NOT_AN_ENFORCER_EVENT"],
    ["garbage", "not an event", "NOT_AN_ENFORCER_EVENT"],
    [
      "a deployment without a service ARN",
      { ...deploymentEvent("x"), resources: ["nope"] },
      "MALFORMED_EVENT",
    ],
    ["a deployment in progress", loadEvent("deployment-in-progress.json"), "DEPLOYMENT_NOT_COMPLETED"],
    [
      "a tag that is not the opt-in tag",
      tagResourceEvent("arn:aws:ecs:us-east-1:123456789012:task-definition/web:1", [
        { key: "team", value: "a" },
      ]),
      "NOT_AN_OPT_IN_TAG",
    ],
    [
      "a tagged cluster",
      tagResourceEvent("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
      "NOT_A_TASK_DEFINITION",
    ],
    [
      "another account's deployment",
      deploymentEvent("arn:aws:ecs:us-east-1:210987654321:service/prod/web"),
      "FOREIGN_EVENT",
    ],
  ])("classifies %s without throwing", async (_, event, reason) => {
    const world = enforcerWorld(ecs);
    const report = await handleEnforcerEvent(event, world.deps, world.observer);
    expect(report.decisions).toEqual([expect.objectContaining({ outcome: "skipped", reason })]);
    expect(ecs.calls.count("DescribeServices")).toBe(0);
  });
});

describe("the enforcer's configuration", () => {
  it("defaults to audit and names the variable that is wrong", async () => {
    const { loadEnforcerConfig } = await import("#shared/enforcer/config.ts");
    expect(loadEnforcerConfig({})).toMatchObject({
      mode: "audit",
      scope: "tag",
      checkStacks: true,
      movesPerCluster: 10,
    });
    expect(() => loadEnforcerConfig({ DNS_CACHE_MODE: "enforce" })).toThrow(
      /DNS_CACHE_IDEMPOTENCY_TABLE: is required/,
    );
    expect(() => loadEnforcerConfig({ DNS_CACHE_OPT_IN: "some" })).toThrow(
      /^DNS_CACHE_OPT_IN: expected one of tag, all/,
    );
    expect(() => loadEnforcerConfig({ DNS_CACHE_SWEEP_REGIONS: "mars" })).toThrow(/DNS_CACHE_SWEEP_REGIONS/);
  });
});

describe("the enforcer's other inputs", () => {
  it("a TagResource opt-in injects the newest revision and converges the services that run it", async () => {
    const world = await freshWorld();
    const a = deployPinned(ecs, "prod", "a", "web", { tags: [] });
    ecs.state.createService({ cluster: "prod", serviceName: "b", taskDefinition: a.taskDefinitionArn });
    deployPinned(ecs, "prod", "unrelated", "other", { tags: [] });
    ecs.state.tagResource(a.taskDefinitionArn, [OPT_IN]);
    const report = await handleEnforcerEvent(
      tagResourceEvent(a.taskDefinitionArn),
      world.deps,
      world.observer,
    );
    expect(report.decisions.map((d) => d.reason).sort()).toEqual(["CONVERGED", "CONVERGED", "INJECTED"]);
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(1);
  });

  it("a sweep moves at most DNS_CACHE_MOVES_PER_CLUSTER services of a cluster; the rest wait (MOVE_DEFERRED)", async () => {
    const world = await freshWorld({ env: { DNS_CACHE_MOVES_PER_CLUSTER: "3" } });
    ecs.state.registerTaskDefinition(appDefinition("f"), [OPT_IN]);
    ecs.state.addCluster("c");
    for (let s = 0; s < 5; s++)
      ecs.state.createService({ cluster: "c", serviceName: `s${s}`, taskDefinition: "f:1" });
    const report = await handleEnforcerEvent(loadEvent("scheduled-sweep.json"), world.deps, world.observer);
    expect(report.sweep?.byReason).toEqual({ CONVERGED: 3, MOVE_DEFERRED: 2 });
    expect(ecs.calls.count("UpdateService")).toBe(3);
  });

  it("a sweep judges every service of every cluster, describing each revision once and services in tens", async () => {
    const world = await freshWorld();
    for (let c = 0; c < 3; c++) {
      for (let s = 0; s < 12; s++) {
        const family = `f${s % 4}`;
        if (c === 0 && s < 4)
          ecs.state.registerTaskDefinition(appDefinition(family), s === 3 ? [] : [OPT_IN]);
        ecs.state.addCluster(`c${c}`);
        ecs.state.createService({ cluster: `c${c}`, serviceName: `s${s}`, taskDefinition: `${family}:1` });
      }
    }
    const report = await handleEnforcerEvent(loadEvent("scheduled-sweep.json"), world.deps, world.observer);
    expect(report.sweep).toMatchObject({ services: 36, failures: [] });
    expect(report.sweep?.byReason).toEqual({ CONVERGED: 27, NOT_OPTED_IN: 9 });
    // 12 services per cluster: 2 describes, and 1 re-read of the 9 moved.
    expect(ecs.calls.count("DescribeServices")).toBe(3 * (Math.ceil(12 / 10) + 1));
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(3);
    expect(ecs.calls.count("UpdateService")).toBe(27);
    // Each family's newest once, and nothing else: the copies were made by this sweep.
    expect(ecs.calls.count("DescribeTaskDefinition")).toBeLessThanOrEqual(4 + 3);
  });
});
