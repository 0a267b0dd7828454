import {
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  type ECSClientConfig,
  ListClustersCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  paginateListClusters,
  paginateListTaskDefinitions,
  paginateListTasks,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  TagResourceCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type EcsStandin, fault, startEcsStandin } from "./support/ecs-standin.ts";

const definition = (family: string): RegisterTaskDefinitionCommandInput => ({
  family,
  networkMode: "awsvpc",
  requiresCompatibilities: ["FARGATE"],
  cpu: "256",
  memory: "512",
  containerDefinitions: [{ name: "app", image: "public.ecr.aws/nginx/nginx:latest", essential: true }],
});

/** Rejection of `promise`, failing when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error("expected a rejection");
}

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

let ecs: EcsStandin;
const clients: ECSClient[] = [];
/** A client on the stand-in; `maxAttempts: 1` unless the test is about retries. */
function client(config: Partial<ECSClientConfig> = {}): ECSClient {
  const c = new ECSClient({ ...ecs.clientConfig(), maxAttempts: 1, ...config });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  ecs = await startEcsStandin();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  ecs.reset();
});
afterAll(async () => {
  await ecs.close();
});

describe("task definitions through the SDK", () => {
  it("registers and describes with tags, by family, family:revision and ARN", async () => {
    const ecsClient = client();
    const first = await ecsClient.send(
      new RegisterTaskDefinitionCommand({ ...definition("web"), tags: [{ key: "team", value: "edge" }] }),
    );
    expect(first.taskDefinition).toMatchObject({
      family: "web",
      revision: 1,
      status: "ACTIVE",
      taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
      compatibilities: ["EC2", "FARGATE"],
      registeredBy: expect.stringMatching(/^arn:aws:iam::/),
    });
    expect(first.taskDefinition?.registeredAt).toBeInstanceOf(Date);
    expect(first.taskDefinition?.requiresAttributes).toContainEqual({ name: "ecs.capability.task-eni" });
    expect(first.tags).toEqual([{ key: "team", value: "edge" }]);

    const second = await ecsClient.send(new RegisterTaskDefinitionCommand(definition("web")));
    expect(second.taskDefinition?.revision).toBe(2);

    const latest = await ecsClient.send(new DescribeTaskDefinitionCommand({ taskDefinition: "web" }));
    expect(latest.taskDefinition?.revision).toBe(2);
    expect(latest.tags).toBeUndefined();

    const byRevision = await ecsClient.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: "web:1", include: ["TAGS"] }),
    );
    expect(byRevision.taskDefinition).toEqual(first.taskDefinition);
    expect(byRevision.tags).toEqual([{ key: "team", value: "edge" }]);

    const byArn = await ecsClient.send(
      new DescribeTaskDefinitionCommand({
        taskDefinition: first.taskDefinition?.taskDefinitionArn,
        include: ["TAGS"],
      }),
    );
    expect(byArn.taskDefinition?.revision).toBe(1);

    await ecsClient.send(new DeregisterTaskDefinitionCommand({ taskDefinition: "web:2" }));
    const afterDeregister = await ecsClient.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: "web" }),
    );
    expect(afterDeregister.taskDefinition?.revision).toBe(1);
    const inactive = await ecsClient.send(new DescribeTaskDefinitionCommand({ taskDefinition: "web:2" }));
    expect(inactive.taskDefinition).toMatchObject({ status: "INACTIVE", deregisteredAt: expect.any(Date) });

    expect(ecs.calls.counts()).toEqual({
      RegisterTaskDefinition: 2,
      DescribeTaskDefinition: 5,
      DeregisterTaskDefinition: 1,
    });
  });

  it("tags a revision and lists its tags", async () => {
    const ecsClient = client();
    const { taskDefinition } = ecs.state.registerTaskDefinition(definition("api"), [
      { key: "a", value: "1" },
    ]);
    const resourceArn = taskDefinition.taskDefinitionArn ?? "";
    await ecsClient.send(
      new TagResourceCommand({
        resourceArn,
        tags: [
          { key: "a", value: "2" },
          { key: "b", value: "3" },
        ],
      }),
    );
    const { tags } = await ecsClient.send(new ListTagsForResourceCommand({ resourceArn }));
    expect(tags).toEqual([
      { key: "a", value: "2" },
      { key: "b", value: "3" },
    ]);
    const missing = await rejection(
      ecsClient.send(new ListTagsForResourceCommand({ resourceArn: resourceArn.replace(":1", ":9") })),
    );
    expect(missing.name).toBe("ResourceNotFoundException");
  });

  it("answers unknown definitions and invalid registrations with ClientException", async () => {
    const ecsClient = client();
    const unknown = await rejection(
      ecsClient.send(new DescribeTaskDefinitionCommand({ taskDefinition: "nope" })),
    );
    expect(unknown).toMatchObject({
      name: "ClientException",
      message: "Unable to describe task definition.",
    });
    expect(unknown.$fault).toBe("client");
    expect(unknown.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 });

    const empty = await rejection(
      ecsClient.send(new RegisterTaskDefinitionCommand({ family: "web", containerDefinitions: [] })),
    );
    expect(empty.name).toBe("ClientException");
    const noFamily = await rejection(
      ecsClient.send(new RegisterTaskDefinitionCommand({ ...definition("web"), family: undefined })),
    );
    expect(noFamily.name).toBe("ClientException");
    const fargateBridge = await rejection(
      ecsClient.send(new RegisterTaskDefinitionCommand({ ...definition("web"), networkMode: "bridge" })),
    );
    expect(fargateBridge.message).toBe("Fargate only supports network mode 'awsvpc'.");
    expect(ecs.state.allTaskDefinitions()).toEqual([]);
  });

  it("lists task definitions page by page, sorted, filtered by family and status", async () => {
    for (const family of ["b", "a", "b", "a", "b"]) ecs.state.registerTaskDefinition(definition(family));
    ecs.state.deregisterTaskDefinition("b:1");
    const ecsClient = client();

    const pages = await collect(paginateListTaskDefinitions({ client: ecsClient, pageSize: 2 }, {}));
    expect(pages.map((p) => p.taskDefinitionArns?.map((arn) => arn.split("/")[1]))).toEqual([
      ["a:1", "a:2"],
      ["b:2", "b:3"],
    ]);
    expect(pages[0]?.nextToken).toBeTypeOf("string");
    expect(pages[1]?.nextToken).toBeUndefined();

    const desc = await ecsClient.send(new ListTaskDefinitionsCommand({ familyPrefix: "b", sort: "DESC" }));
    expect(desc.taskDefinitionArns?.map((arn) => arn.split("/")[1])).toEqual(["b:3", "b:2"]);
    const inactive = await ecsClient.send(new ListTaskDefinitionsCommand({ status: "INACTIVE" }));
    expect(inactive.taskDefinitionArns).toEqual([ecs.state.taskDefinitionArn("b", 1)]);

    const badToken = await rejection(
      ecsClient.send(new ListTaskDefinitionsCommand({ nextToken: "garbage" })),
    );
    expect(badToken.name).toBe("InvalidParameterException");
    const badMax = await rejection(ecsClient.send(new ListTaskDefinitionsCommand({ maxResults: 101 })));
    expect(badMax.name).toBe("InvalidParameterException");
  });
});

describe("clusters and tasks through the SDK", () => {
  it("paginates ListClusters and ListTasks (100 per page by default)", async () => {
    for (let i = 0; i < 5; i++) ecs.state.addCluster(`c${i}`);
    ecs.state.registerTaskDefinition(definition("web"));
    for (let i = 0; i < 150; i++) ecs.state.addTask("c0", { taskDefinition: "web" });
    ecs.state.addTask("c0", { taskDefinition: "web", lastStatus: "STOPPED" });
    const ecsClient = client();

    const clusterPages = await collect(paginateListClusters({ client: ecsClient, pageSize: 2 }, {}));
    expect(clusterPages.map((p) => p.clusterArns?.length)).toEqual([2, 2, 1]);
    expect((await ecsClient.send(new ListClustersCommand({}))).clusterArns).toHaveLength(5);

    const taskPages = await collect(paginateListTasks({ client: ecsClient }, { cluster: "c0" }));
    expect(taskPages.map((p) => p.taskArns?.length)).toEqual([100, 50]);
    expect(ecs.calls.count("ListTasks")).toBe(2);
    const stopped = await ecsClient.send(new ListTasksCommand({ cluster: "c0", desiredStatus: "STOPPED" }));
    expect(stopped.taskArns).toHaveLength(1);

    const described = await ecsClient.send(new DescribeClustersCommand({ clusters: ["c0", "ghost"] }));
    expect(described.clusters?.[0]).toMatchObject({
      clusterName: "c0",
      runningTasksCount: 150,
      status: "ACTIVE",
    });
    expect(described.failures).toEqual([{ arn: ecs.state.clusterArn("ghost"), reason: "MISSING" }]);

    const noCluster = await rejection(ecsClient.send(new ListTasksCommand({ cluster: "ghost" })));
    expect(noCluster.name).toBe("ClusterNotFoundException");
  });

  it("describes tasks with containers and reports unknown ones as MISSING failures", async () => {
    ecs.state.registerTaskDefinition({
      ...definition("web"),
      containerDefinitions: [
        { name: "app", image: "app:1" },
        { name: "sidecar", image: "sidecar:1" },
      ],
    });
    const task = ecs.state.addTask("prod", {
      taskDefinition: "web",
      healthStatus: "UNHEALTHY",
      containers: [
        { name: "app", healthStatus: "HEALTHY" },
        { name: "sidecar", lastStatus: "STOPPED", exitCode: 137, reason: "OutOfMemoryError" },
      ],
    });
    const ecsClient = client();
    const missingArn = ecs.state.taskArn("prod", "f".repeat(32));
    const result = await ecsClient.send(
      new DescribeTasksCommand({ cluster: "prod", tasks: [task.taskArn ?? "", missingArn, "abc"] }),
    );
    expect(result.tasks).toHaveLength(1);
    expect(result.tasks?.[0]).toMatchObject({
      taskArn: task.taskArn,
      clusterArn: ecs.state.clusterArn("prod"),
      taskDefinitionArn: ecs.state.taskDefinitionArn("web", 1),
      lastStatus: "RUNNING",
      desiredStatus: "RUNNING",
      healthStatus: "UNHEALTHY",
      group: "family:web",
      launchType: "FARGATE",
    });
    expect(result.tasks?.[0]?.startedAt).toBeInstanceOf(Date);
    expect(result.tasks?.[0]?.containers).toEqual([
      expect.objectContaining({
        name: "app",
        image: "app:1",
        lastStatus: "RUNNING",
        healthStatus: "HEALTHY",
      }),
      expect.objectContaining({
        name: "sidecar",
        lastStatus: "STOPPED",
        exitCode: 137,
        reason: "OutOfMemoryError",
      }),
    ]);
    expect(result.failures).toEqual([
      { arn: missingArn, reason: "MISSING" },
      { arn: ecs.state.taskArn("prod", "abc"), reason: "MISSING" },
    ]);

    const tooMany = await rejection(
      ecsClient.send(
        new DescribeTasksCommand({ cluster: "prod", tasks: Array.from({ length: 101 }, (_, i) => `t${i}`) }),
      ),
    );
    expect(tooMany.name).toBe("ClientException");
  });
});

describe("faults", () => {
  it("throttling is retried by the SDK's standard retry and changes nothing while failing", async () => {
    ecs.setFaults([fault.next("RegisterTaskDefinition", "throttle", 1)]);
    const result = await client({ maxAttempts: 3 }).send(
      new RegisterTaskDefinitionCommand(definition("web")),
    );
    expect(result.taskDefinition?.revision).toBe(1);
    expect(result.$metadata.attempts).toBe(2);
    expect(
      ecs.calls.list("RegisterTaskDefinition").map((c) => [c.outcome, c.errorType, c.committed]),
    ).toEqual([
      ["error", "ThrottlingException", false],
      ["ok", undefined, true],
    ]);
  });

  it("throttling surfaces as ThrottlingException with maxAttempts 1 and registers nothing", async () => {
    ecs.setFaults([fault.always("RegisterTaskDefinition", "throttle")]);
    const error = await rejection(client().send(new RegisterTaskDefinitionCommand(definition("web"))));
    expect(error).toMatchObject({ name: "ThrottlingException", message: "Rate exceeded" });
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(ecs.state.allTaskDefinitions()).toEqual([]);
  });

  it("a 500 surfaces as ServerException; the SDK retries it as transient", async () => {
    ecs.state.registerTaskDefinition(definition("web"));
    ecs.setFaults([fault.next("DescribeTaskDefinition", "server-error", 1)]);
    const error = await rejection(
      client().send(new DescribeTaskDefinitionCommand({ taskDefinition: "web" })),
    );
    expect(error).toMatchObject({ name: "ServerException", $fault: "server" });
    expect(error.$metadata).toMatchObject({ httpStatusCode: 500 });

    ecs.setFaults([fault.next("DescribeTaskDefinition", "server-error", 2)]);
    const ok = await client({ maxAttempts: 3 }).send(
      new DescribeTaskDefinitionCommand({ taskDefinition: "web" }),
    );
    expect(ok.$metadata.attempts).toBe(3);
    expect(ecs.faultStats()[0]).toMatchObject({ seen: 3, fired: 2 });
  });

  it("concurrent-revision is a ClientException the SDK does not retry", async () => {
    ecs.setFaults([fault.next("RegisterTaskDefinition", "concurrent-revision")]);
    const error = await rejection(
      client({ maxAttempts: 3 }).send(new RegisterTaskDefinitionCommand(definition("web"))),
    );
    expect(error).toMatchObject({
      name: "ClientException",
      message: "Too many concurrent attempts to create a new revision of the specified family.",
    });
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(1);
    expect(ecs.state.allTaskDefinitions()).toEqual([]);
  });

  it("a dropped connection surfaces as a network error", async () => {
    ecs.setFaults([fault.next("ListClusters", "drop")]);
    const error = await rejection(client().send(new ListClustersCommand({})));
    expect(error.code).toBe("ECONNRESET");
    expect(error.$metadata).not.toHaveProperty("httpStatusCode");
    expect(ecs.calls.last("ListClusters")).toMatchObject({ outcome: "dropped", fault: "drop" });

    ecs.setFaults([fault.next("ListClusters", "drop")]);
    const retried = await client({ maxAttempts: 2 }).send(new ListClustersCommand({}));
    expect(retried.$metadata.attempts).toBe(2);
  });

  it("fail-after-commit and drop-after-commit apply the change, then fail", async () => {
    ecs.setFaults([fault.next("RegisterTaskDefinition", "fail-after-commit")]);
    const error = await rejection(client().send(new RegisterTaskDefinitionCommand(definition("web"))));
    expect(error.name).toBe("ServerException");
    expect(ecs.state.findTaskDefinition("web")?.revision).toBe(1);

    ecs.setFaults([fault.next("RegisterTaskDefinition", "drop-after-commit")]);
    const dropped = await rejection(client().send(new RegisterTaskDefinitionCommand(definition("web"))));
    expect(dropped.code).toBe("ECONNRESET");
    expect(ecs.state.findTaskDefinition("web")?.revision).toBe(2);
    expect(ecs.calls.list("RegisterTaskDefinition").map((c) => c.committed)).toEqual([true, true]);
  });

  it("slow answers delay the call and can trip the client's request timeout", async () => {
    ecs.setFaults([fault.slow("ListClusters", 150, { times: 1 })]);
    const started = performance.now();
    await client().send(new ListClustersCommand({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    ecs.setFaults([fault.slow("ListClusters", 300, { times: 1 })]);
    const timedOut = await rejection(
      client({ requestHandler: { requestTimeout: 50, throwOnRequestTimeout: true } }).send(
        new ListClustersCommand({}),
      ),
    );
    expect(timedOut.name).toBe("TimeoutError");
  });

  it("schedules by call ordinal and injects arbitrary errors", async () => {
    ecs.setFaults([
      { operation: "ListClusters", kind: "error", errorType: "AccessDeniedException", onCalls: [2, 4] },
    ]);
    const ecsClient = client();
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(
        await ecsClient.send(new ListClustersCommand({})).then(
          () => "ok",
          (e: Error) => e.name,
        ),
      );
    }
    expect(outcomes).toEqual(["ok", "AccessDeniedException", "ok", "AccessDeniedException", "ok"]);
  });

  it("probabilistic faults are reproducible from the seed", async () => {
    const run = async (seed: number): Promise<string> => {
      ecs.setFaults({ seed, rules: [fault.sometimes("ListClusters", "throttle", 0.5)] });
      const ecsClient = client();
      let pattern = "";
      for (let i = 0; i < 20; i++) {
        pattern += await ecsClient.send(new ListClustersCommand({})).then(
          () => ".",
          () => "T",
        );
      }
      return pattern;
    };
    const first = await run(42);
    expect(await run(42)).toBe(first);
    expect(first).toMatch(/T/);
    expect(first).toMatch(/\./);
    expect(await run(7)).not.toBe(first);
  });
});

describe("rate limits and environment", () => {
  it("a token bucket per operation answers ThrottlingException when empty", async () => {
    let now = 1_000_000;
    const limited = await startEcsStandin({
      now: () => now,
      rateLimits: { ListClusters: { ratePerSecond: 2, burst: 3 } },
    });
    try {
      const ecsClient = new ECSClient({ ...limited.clientConfig(), maxAttempts: 1 });
      const call = () =>
        ecsClient.send(new ListClustersCommand({})).then(
          () => ".",
          (e: Error) => (e.name === "ThrottlingException" ? "T" : e.name),
        );
      let pattern = "";
      for (let i = 0; i < 5; i++) pattern += await call();
      now += 500; // one token back
      for (let i = 0; i < 2; i++) pattern += await call();
      now += 10_000; // refills to the burst, not beyond
      for (let i = 0; i < 4; i++) pattern += await call();
      expect(pattern).toBe("...TT.T...T");
      expect(limited.calls.count("ListClusters", { source: "rate-limit" })).toBe(4);
      // other operations have no bucket
      await ecsClient.send(new DescribeClustersCommand({ clusters: ["x"] }));
      ecsClient.destroy();
    } finally {
      await limited.close();
    }
  });

  it("code building its own client reaches the stand-in through AWS_ENDPOINT_URL_ECS", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, ecs.env());
    try {
      const ecsClient = new ECSClient({ maxAttempts: 1 });
      clients.push(ecsClient);
      ecs.state.registerTaskDefinition(definition("web"));
      const result = await ecsClient.send(new DescribeTaskDefinitionCommand({ taskDefinition: "web" }));
      expect(result.taskDefinition?.revision).toBe(1);
    } finally {
      for (const key of Object.keys(ecs.env())) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it("rejects requests that are not ECS JSON 1.1 calls", async () => {
    const response = await fetch(ecs.url, {
      method: "POST",
      headers: { "x-amz-target": `${"AmazonEC2ContainerServiceV20141113"}.RunTask` },
      body: "{}",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: "UnknownOperationException" });
    expect(response.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
  });
});
