/**
 * What only the enforcer's I/O side does — the per-invocation scope, the write, the sweep of clusters and
 * accounts, the flow's answers per event — against the ECS stand-in, with an in-memory guard and memory.
 */
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import type { ECSClient, Service } from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { inMemory } from "#shared/aws/enforcer-memory.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import type { Guard } from "#shared/aws/guard.ts";
import { converge, type Recheck } from "#shared/enforcer/converge.ts";
import type { Decision } from "#shared/enforcer/decide.ts";
import { handleEnforcerEvent } from "#shared/enforcer/flow.ts";
import type { JudgeDeps } from "#shared/enforcer/judge.ts";
import { Scope } from "#shared/enforcer/scope.ts";
import { decideAll, recheckIn, sweepScope } from "#shared/enforcer/sweep.ts";
import { deploymentEvent, loadEvent, tagResourceEvent } from "./helpers/events.ts";
import { type EcsStandin, fault, startEcsStandin } from "./support/ecs-standin.ts";
import { appDefinition, deployPinned, enforcerWorld, OPT_IN, type World } from "./support/enforcer-world.ts";

let ecs: EcsStandin;
beforeAll(async () => {
  ecs = await startEcsStandin();
});
afterAll(async () => {
  await ecs.close();
});
beforeEach(() => ecs.reset());

const sweepEvent = () => loadEvent("scheduled-sweep.json");
const noCfn = () => {
  throw new Error("no stack is read here");
};

async function scopeOf(world: World): Promise<Scope> {
  const target = { account: ecs.state.accountId, region: ecs.region };
  return new Scope(target, await world.deps.ecsFor(target), noCfn);
}

/** Services as the enforcer reads them (DescribeServices with tags). */
function described(...arns: string[]): Service[] {
  return arns.map((arn) => {
    const svc = ecs.state.getService(arn);
    if (!svc) throw new Error(`no service ${arn}`);
    return { ...structuredClone(svc), tags: ecs.state.listTagsForResource(arn) };
  });
}

/** A service on web:1 and a registered web:2 to move it to. */
function pinnedWithTarget(name = "web", cluster = "prod") {
  const { serviceArn, taskDefinitionArn } = deployPinned(ecs, cluster, name, name);
  const copyArn =
    ecs.state.registerTaskDefinition(appDefinition(name), [OPT_IN]).taskDefinition.taskDefinitionArn ?? "";
  return { serviceArn, source: taskDefinitionArn, copyArn };
}

const moveOf = (svc: Service, source: string, copyArn: string, made = false) =>
  ({ move: true, svc, source, copyArn, made }) as const;

const freshAs =
  (fresh: Record<string, Service | undefined>): Recheck =>
  async (services) =>
    new Map(services.map((s) => [s.serviceArn ?? "", fresh[s.serviceArn ?? ""]]));

/** A guard keeping first results in memory (replays later runs of a key), recording keys and concurrency. */
function memoryGuard() {
  const results = new Map<string, unknown>();
  const keys: string[] = [];
  let active = 0;
  const state = { keys, maxActive: 0 };
  const guard: Guard = {
    async run(key, work) {
      keys.push(key);
      if (results.has(key)) return { result: results.get(key) as never, replayed: true };
      active += 1;
      state.maxActive = Math.max(state.maxActive, active);
      try {
        const result = await work();
        results.set(key, result);
        return { result, replayed: false };
      } finally {
        active -= 1;
      }
    },
    registerLambdaContext() {},
  };
  return { guard, state };
}

describe("the per-invocation scope", () => {
  it("describes a family's newest once, and remembers it under its own revision too", async () => {
    deployPinned(ecs, "prod", "web", "web");
    ecs.state.registerTaskDefinition(appDefinition("web"), [OPT_IN]);
    const scope = await scopeOf(enforcerWorld(ecs));
    ecs.calls.reset();
    const [a, b] = await Promise.all([scope.newest("web"), scope.newest("web")]);
    expect(a?.taskDefinition?.revision).toBe(2);
    expect(b).toBe(a);
    expect(await scope.revision("web", 2)).toBe(a);
    expect((await scope.revision("web", 1))?.taskDefinition?.revision).toBe(1);
    expect((await scope.revision("web", 1))?.tags).toEqual([OPT_IN]);
    expect(ecs.calls.count("DescribeTaskDefinition")).toBe(2);
    expect(scope.counts).toEqual({ DescribeTaskDefinition: 2, DescribeStacks: 0 });
  });

  it("answers undefined for a family or revision that is not there, and reads again after a failure", async () => {
    deployPinned(ecs, "prod", "web", "web");
    const scope = await scopeOf(enforcerWorld(ecs));
    expect(await scope.newest("nope")).toBeUndefined();
    expect(await scope.revision("web", 9)).toBeUndefined();
    ecs.setFaults([fault.always("DescribeTaskDefinition", "error", { errorType: "AccessDeniedException" })]);
    await expect(scope.newest("web")).rejects.toMatchObject({ reason: "ACCESS_DENIED" });
    await expect(scope.revision("web", 1)).rejects.toMatchObject({ reason: "ACCESS_DENIED" });
    ecs.setFaults([]);
    expect((await scope.newest("web"))?.taskDefinition?.revision).toBe(1);
    expect((await scope.revision("web", 1))?.taskDefinition?.revision).toBe(1);
  });

  it("runs a piece of work once per key, and again after it failed", async () => {
    const scope = await scopeOf(enforcerWorld(ecs));
    let runs = 0;
    const work = async () => ++runs;
    expect(await Promise.all([scope.memo("a", work), scope.memo("a", work), scope.memo("b", work)])).toEqual([
      1, 1, 2,
    ]);
    await expect(scope.memo("c", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await scope.memo("c", work)).toBe(3);
  });

  it("loads CloudFormation on the first stack check only, and reads each stack once", async () => {
    const cfnMock = mockClient(CloudFormationClient);
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: "app", StackStatus: "UPDATE_IN_PROGRESS", CreationTime: new Date() }],
    });
    try {
      let clients = 0;
      const cfn = () => {
        clients += 1;
        return new CloudFormationClient({
          region: "us-east-1",
          credentials: { accessKeyId: "a", secretAccessKey: "b" },
        });
      };
      const scope = new Scope({ account: "1", region: "us-east-1" }, {} as ECSClient, cfn);
      expect(clients).toBe(0);
      expect(await Promise.all([scope.stackStatus("app"), scope.stackStatus("app")])).toEqual([
        "UPDATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
      ]);
      expect(cfnMock.commandCalls(DescribeStacksCommand)).toHaveLength(1);
      expect(scope.counts.DescribeStacks).toBe(1);
      cfnMock.on(DescribeStacksCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDenied" }));
      await expect(scope.stackStatus("other")).rejects.toThrow();
      cfnMock.on(DescribeStacksCommand).resolves({
        Stacks: [{ StackName: "other", StackStatus: "CREATE_COMPLETE", CreationTime: new Date() }],
      });
      expect(await scope.stackStatus("other")).toBe("CREATE_COMPLETE");
    } finally {
      cfnMock.restore();
    }
  });
});

describe("the write (converge)", () => {
  it("audit mode: would converge each move, re-reads and writes nothing", async () => {
    const world = enforcerWorld(ecs, { env: { DNS_CACHE_MODE: "audit" } });
    const a = pinnedWithTarget("a");
    const b = pinnedWithTarget("b");
    const [svcA, svcB] = described(a.serviceArn, b.serviceArn) as [Service, Service];
    let rechecked = 0;
    const recheck: Recheck = async () => {
      rechecked += 1;
      return new Map();
    };
    const decisions = await converge(
      [moveOf(svcA, a.source, a.copyArn, true), moveOf(svcB, b.source, b.copyArn)],
      await scopeOf(world),
      world.deps,
      recheck,
    );
    expect(decisions).toEqual([
      {
        outcome: "audited",
        reason: "WOULD_CONVERGE",
        message: "would inject the revision and move the service",
        service: a.serviceArn,
        cluster: svcA.clusterArn,
        taskDefinitionArn: a.source,
        copyArn: a.copyArn,
      },
      expect.objectContaining({ reason: "WOULD_CONVERGE", message: "would move the service to the copy" }),
    ]);
    expect(rechecked).toBe(0);
    expect(ecs.calls.count("UpdateService")).toBe(0);
  });

  it("re-reads nothing when there is nothing to move", async () => {
    const world = enforcerWorld(ecs);
    const recheck: Recheck = async () => {
      throw new Error("must not re-read");
    };
    expect(await converge([], await scopeOf(world), world.deps, recheck)).toEqual([]);
  });

  it("moves each service with UpdateService(cluster, service, taskDefinition) only, and remembers the move", async () => {
    const world = enforcerWorld(ecs);
    const a = pinnedWithTarget("a");
    const b = pinnedWithTarget("b");
    const [svcA, svcB] = described(a.serviceArn, b.serviceArn) as [Service, Service];
    ecs.calls.reset();
    const decisions = await converge(
      [moveOf(svcA, a.source, a.copyArn, true), moveOf(svcB, b.source, b.copyArn)],
      await scopeOf(world),
      world.deps,
      freshAs({ [a.serviceArn]: svcA, [b.serviceArn]: svcB }),
    );
    expect(decisions).toEqual([
      {
        outcome: "converged",
        reason: "CONVERGED",
        message: "injected the revision and moved the service to the copy",
        service: a.serviceArn,
        cluster: svcA.clusterArn,
        taskDefinitionArn: a.source,
        copyArn: a.copyArn,
      },
      expect.objectContaining({
        reason: "CONVERGED",
        message: "moved the service to the copy",
        copyArn: b.copyArn,
      }),
    ]);
    expect(ecs.calls.list("UpdateService").map((c) => c.input)).toEqual([
      { cluster: svcA.clusterArn, service: a.serviceArn, taskDefinition: a.copyArn },
      { cluster: svcB.clusterArn, service: b.serviceArn, taskDefinition: b.copyArn },
    ]);
    expect(await world.memory.lastMove(a.serviceArn)).toEqual({
      sourceArn: a.source,
      copyArn: a.copyArn,
      revertReported: false,
    });
  });

  it("names ECS's default cluster when the service names none", async () => {
    const world = enforcerWorld(ecs);
    const { serviceArn, source, copyArn } = pinnedWithTarget("web", "default");
    const [svc] = described(serviceArn) as [Service];
    delete svc.clusterArn;
    await converge(
      [moveOf(svc, source, copyArn)],
      await scopeOf(world),
      world.deps,
      freshAs({ [serviceArn]: svc }),
    );
    expect(ecs.calls.last("UpdateService")?.input).toMatchObject({ cluster: "default", service: serviceArn });
  });

  it.each<[string, (svc: Service) => Service | undefined, string, string]>([
    ["gone", () => undefined, "SERVICE_GONE", "deleted or draining since it was read"],
    [
      "draining",
      (svc) => ({ ...svc, status: "DRAINING" }),
      "SERVICE_GONE",
      "deleted or draining since it was read",
    ],
    [
      "deployed again",
      (svc) => ({ ...svc, deployments: [{ taskDefinition: "arn:other:9", rolloutState: "COMPLETED" }] }),
      "SERVICE_CHANGED",
      "it changed since it was read (a new deployment?); the next event or sweep decides again",
    ],
    [
      "opted out meanwhile",
      (svc) => ({ ...svc, tags: [{ key: "dns-cache", value: "disabled" }] }),
      "SERVICE_CHANGED",
      "it changed since it was read (a new deployment?); the next event or sweep decides again",
    ],
  ])("leaves a service %s since it was read, without touching it", async (_, change, reason, message) => {
    const world = enforcerWorld(ecs);
    const { serviceArn, source, copyArn } = pinnedWithTarget();
    const [svc] = described(serviceArn) as [Service];
    ecs.calls.reset();
    const [decision] = await converge(
      [moveOf(svc, source, copyArn)],
      await scopeOf(world),
      world.deps,
      freshAs({ [serviceArn]: change(svc) }),
    );
    expect(decision).toEqual({
      outcome: "left",
      reason,
      message,
      service: serviceArn,
      cluster: svc.clusterArn,
      taskDefinitionArn: source,
      copyArn,
    });
    expect(ecs.calls.count("UpdateService")).toBe(0);
    expect(await world.memory.lastMove(serviceArn)).toBeUndefined();
  });

  it.each([
    ["ServiceNotFoundException", "left", "SERVICE_GONE"],
    ["InvalidParameterException", "failed", "UPDATE_REJECTED"],
  ])(
    "reports UpdateService's %s as %s %s, with ECS's message, and remembers no move",
    async (type, outcome, reason) => {
      const world = enforcerWorld(ecs);
      const { serviceArn, source, copyArn } = pinnedWithTarget();
      const [svc] = described(serviceArn) as [Service];
      ecs.setFaults([fault.next("UpdateService", "error", 1, { errorType: type, message: "ECS says no" })]);
      const [decision] = await converge(
        [moveOf(svc, source, copyArn)],
        await scopeOf(world),
        world.deps,
        freshAs({ [serviceArn]: svc }),
      );
      expect(decision).toMatchObject({
        outcome,
        reason,
        message: "ECS says no",
        service: serviceArn,
        copyArn,
      });
      expect(await world.memory.lastMove(serviceArn)).toBeUndefined();
    },
  );

  it("writes once per service and source: a second delivery is a DUPLICATE_EVENT", async () => {
    const world = enforcerWorld(ecs);
    const { guard, state } = memoryGuard();
    const deps: JudgeDeps = { ...world.deps, guard };
    const { serviceArn, source, copyArn } = pinnedWithTarget();
    const [svc] = described(serviceArn) as [Service];
    const scope = await scopeOf(world);
    const once = () => converge([moveOf(svc, source, copyArn)], scope, deps, freshAs({ [serviceArn]: svc }));
    expect((await once())[0]).toMatchObject({ reason: "CONVERGED" });
    expect((await once())[0]).toEqual({
      outcome: "skipped",
      reason: "DUPLICATE_EVENT",
      service: serviceArn,
      cluster: svc.clusterArn,
      taskDefinitionArn: source,
      copyArn,
    });
    expect(state.keys).toEqual([
      `enforcer-update:${serviceArn}:${source}`,
      `enforcer-update:${serviceArn}:${source}`,
    ]);
    expect(ecs.calls.count("UpdateService")).toBe(1);
  });

  it("keeps to DNS_CACHE_UPDATE_CONCURRENCY UpdateService calls at once", async () => {
    const world = enforcerWorld(ecs, { env: { DNS_CACHE_UPDATE_CONCURRENCY: "2" } });
    const { guard, state } = memoryGuard();
    const moves = Array.from({ length: 5 }, (_, i) => {
      const t = pinnedWithTarget(`s${i}`);
      const [svc] = described(t.serviceArn) as [Service];
      return moveOf(svc, t.source, t.copyArn);
    });
    ecs.setFaults([fault.slow("UpdateService", 30)]);
    const fresh = Object.fromEntries(moves.map((m) => [m.svc.serviceArn ?? "", m.svc]));
    const decisions = await converge(moves, await scopeOf(world), { ...world.deps, guard }, freshAs(fresh));
    expect(decisions.map((d) => d.reason)).toEqual(Array(5).fill("CONVERGED"));
    expect(state.maxActive).toBe(2);
  });

  it("hands a failing write to the caller's handler, or throws it when there is none", async () => {
    const world = enforcerWorld(ecs);
    const { serviceArn, source, copyArn } = pinnedWithTarget();
    const [svc] = described(serviceArn) as [Service];
    const scope = await scopeOf(world);
    const denied = () =>
      ecs.setFaults([fault.next("UpdateService", "error", 1, { errorType: "AccessDeniedException" })]);
    const handled: Array<[unknown, Service]> = [];
    denied();
    const decisions = await converge(
      [moveOf(svc, source, copyArn)],
      scope,
      world.deps,
      freshAs({ [serviceArn]: svc }),
      (error, s): Decision => {
        handled.push([error, s]);
        return { outcome: "failed", reason: "HANDLED" };
      },
    );
    expect(decisions).toEqual([{ outcome: "failed", reason: "HANDLED" }]);
    expect(handled).toEqual([[expect.objectContaining({ reason: "ACCESS_DENIED" }), svc]]);
    denied();
    await expect(
      converge([moveOf(svc, source, copyArn)], scope, world.deps, freshAs({ [serviceArn]: svc })),
    ).rejects.toMatchObject({ name: "RetryableError", reason: "ACCESS_DENIED" });
  });
});

describe("the sweep of one account and region", () => {
  it("re-reads services ten per call, answering undefined for those gone", async () => {
    const world = enforcerWorld(ecs);
    ecs.state.registerTaskDefinition(appDefinition("f"), [OPT_IN]);
    ecs.state.addCluster("c");
    const arns = Array.from(
      { length: 12 },
      (_, i) =>
        ecs.state.createService({ cluster: "c", serviceName: `s${i}`, taskDefinition: "f:1" }).serviceArn ??
        "",
    );
    const services = described(...arns);
    const gone = { serviceArn: ecs.state.serviceArn("c", "gone") };
    const counter = { calls: 0 };
    ecs.calls.reset();
    const fresh = await recheckIn(await scopeOf(world), "c", counter)([...services, gone]);
    expect(counter.calls).toBe(2);
    expect(ecs.calls.count("DescribeServices")).toBe(2);
    expect([...fresh.keys()]).toEqual([...arns, gone.serviceArn]);
    expect(fresh.get(arns[11] ?? "")?.serviceArn).toBe(arns[11]);
    expect(fresh.has(gone.serviceArn)).toBe(true);
    expect(fresh.get(gone.serviceArn)).toBeUndefined();
  });

  it("moves at most DNS_CACHE_MOVES_PER_CLUSTER services; the rest are MOVE_DEFERRED with the copy named", async () => {
    const world = enforcerWorld(ecs, { env: { DNS_CACHE_MOVES_PER_CLUSTER: "1" } });
    ecs.state.registerTaskDefinition(appDefinition("f"), [OPT_IN]);
    ecs.state.addCluster("c");
    const arns = ["s0", "s1", "s2"].map(
      (s) =>
        ecs.state.createService({ cluster: "c", serviceName: s, taskDefinition: "f:1" }).serviceArn ?? "",
    );
    ecs.state.createService({
      cluster: "c",
      serviceName: "bg",
      taskDefinition: "f:1",
      deploymentController: { type: "EXTERNAL" },
    });
    const services = described(...arns, ecs.state.serviceArn("c", "bg"));
    const decisions = await decideAll(services, "c", await scopeOf(world), world.deps, { calls: 0 });
    // Decisions first, then the deferred moves, then the written ones.
    expect(decisions.map((d) => d.reason)).toEqual([
      "CONTROLLER_NOT_ECS",
      "MOVE_DEFERRED",
      "MOVE_DEFERRED",
      "CONVERGED",
    ]);
    const copyArn = decisions[3]?.copyArn;
    expect(decisions[1]).toEqual({
      outcome: "left",
      reason: "MOVE_DEFERRED",
      message: "more than 1 services of the cluster to move in one sweep; the next sweep comes back",
      service: arns[1],
      cluster: services[1]?.clusterArn,
      taskDefinitionArn: services[1]?.taskDefinition,
      copyArn,
    });
    expect(ecs.calls.list("UpdateService").map((c) => (c.input as { service: string }).service)).toEqual([
      arns[0],
    ]);
  });

  it("makes one service's failure its own decision, with the reason, and goes on", async () => {
    const world = enforcerWorld(ecs);
    const ok = deployPinned(ecs, "c", "ok", "ok");
    const denied = deployPinned(ecs, "c", "denied", "denied");
    const broken = deployPinned(ecs, "c", "broken", "broken");
    const memory = inMemory();
    const deps: JudgeDeps = {
      ...world.deps,
      memory: {
        ...memory,
        async lastMove(arn) {
          if (arn === broken.serviceArn) throw new Error("memory unreadable");
          if (arn === denied.serviceArn) throw new RetryableError("THROTTLED", "slow down");
          return memory.lastMove(arn);
        },
      },
    };
    const services = described(ok.serviceArn, denied.serviceArn, broken.serviceArn);
    const decisions = await decideAll(services, "c", await scopeOf(world), deps, { calls: 0 });
    expect(decisions).toEqual([
      {
        outcome: "failed",
        reason: "THROTTLED",
        message: "slow down",
        service: denied.serviceArn,
        cluster: services[1]?.clusterArn,
        taskDefinitionArn: denied.taskDefinitionArn,
      },
      expect.objectContaining({ outcome: "failed", reason: "INTERNAL", message: "memory unreadable" }),
      expect.objectContaining({ outcome: "converged", service: ok.serviceArn }),
    ]);
  });

  it("makes a failed write its own decision in a sweep", async () => {
    const world = enforcerWorld(ecs);
    const a = deployPinned(ecs, "c", "a", "a");
    ecs.setFaults([
      fault.always("UpdateService", "error", { errorType: "AccessDeniedException", message: "no" }),
    ]);
    const decisions = await decideAll(described(a.serviceArn), "c", await scopeOf(world), world.deps, {
      calls: 0,
    });
    expect(decisions).toEqual([
      {
        outcome: "failed",
        reason: "ACCESS_DENIED",
        message: "AccessDeniedException: no",
        service: a.serviceArn,
        cluster: expect.stringContaining(":cluster/c"),
        taskDefinitionArn: a.taskDefinitionArn,
      },
    ]);
  });

  it("reports an account whose clusters cannot be listed, naming no cluster", async () => {
    const world = enforcerWorld(ecs);
    ecs.setFaults([
      fault.always("ListClusters", "error", { errorType: "AccessDeniedException", message: "no" }),
    ]);
    expect(await sweepScope(await scopeOf(world), world.deps)).toEqual({
      decisions: [],
      failures: [
        {
          account: ecs.state.accountId,
          region: ecs.region,
          reason: "ACCESS_DENIED",
          message: "AccessDeniedException: no",
        },
      ],
      describeServicesCalls: 0,
    });
  });

  it("reports a cluster that cannot be read, and sweeps the others", async () => {
    const world = enforcerWorld(ecs, { env: { DNS_CACHE_CLUSTER_CONCURRENCY: "1" } });
    deployPinned(ecs, "a", "web", "web");
    deployPinned(ecs, "b", "api", "api");
    ecs.setFaults([
      fault.next("ListServices", "error", 1, { errorType: "AccessDeniedException", message: "no" }),
    ]);
    const swept = await sweepScope(await scopeOf(world), world.deps);
    expect(swept.failures).toEqual([
      {
        account: ecs.state.accountId,
        region: ecs.region,
        cluster: ecs.state.clusterArn("a"),
        reason: "ACCESS_DENIED",
        message: "AccessDeniedException: no",
      },
    ]);
    expect(swept.decisions).toEqual([
      expect.objectContaining({ reason: "CONVERGED", service: expect.stringContaining("/b/api") }),
    ]);
    expect(swept.describeServicesCalls).toBe(2);
  });

  it("judges only the services the filter keeps", async () => {
    const world = enforcerWorld(ecs);
    const web = deployPinned(ecs, "c", "web", "web");
    deployPinned(ecs, "c", "api", "api");
    const swept = await sweepScope(await scopeOf(world), world.deps, (s) => s.serviceArn === web.serviceArn);
    expect(swept.decisions).toEqual([
      expect.objectContaining({ reason: "CONVERGED", service: web.serviceArn }),
    ]);
  });
});

describe("the enforcer flow, per event", () => {
  it("leaves a deployment's service that no longer exists (SERVICE_GONE)", async () => {
    const world = enforcerWorld(ecs);
    ecs.state.addCluster("prod");
    const arn = ecs.state.serviceArn("prod", "gone");
    const report = await handleEnforcerEvent(deploymentEvent(arn), world.deps, world.observer);
    expect(report).toEqual({
      decisions: [{ outcome: "left", reason: "SERVICE_GONE", service: arn, message: "not found" }],
    });
    expect(world.decisions).toEqual(report.decisions);
  });

  it.each([
    ["another account", "arn:aws:ecs:us-east-1:210987654321:service/prod/web", "210987654321/us-east-1"],
    ["another region", "arn:aws:ecs:eu-west-1:ACCOUNT:service/prod/web", "ACCOUNT/eu-west-1"],
  ])("skips a deployment in %s (FOREIGN_EVENT), naming both places", async (_, template, from) => {
    const world = enforcerWorld(ecs);
    const account = ecs.state.accountId;
    const arn = template.replace("ACCOUNT", account);
    const report = await handleEnforcerEvent(deploymentEvent(arn), world.deps, world.observer);
    expect(report.decisions).toEqual([
      {
        outcome: "skipped",
        reason: "FOREIGN_EVENT",
        message: `from ${from.replace("ACCOUNT", account)}; this deployment acts in ${account}/${ecs.region} only`,
        service: arn,
      },
    ]);
  });

  it("acts in any account in organisation mode (no home)", async () => {
    const world = enforcerWorld(ecs, { home: false });
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    const report = await handleEnforcerEvent(deploymentEvent(serviceArn), world.deps, world.observer);
    expect(report.decisions).toEqual([expect.objectContaining({ reason: "CONVERGED" })]);
  });

  it("a sweep reports each decision as part of the sweep, then the summary", async () => {
    const world = enforcerWorld(ecs);
    const seen: Array<[string, boolean | undefined]> = [];
    const summaries: unknown[] = [];
    const observer = {
      decision: (d: Decision, inSweep?: boolean) => seen.push([d.reason, inSweep]),
      sweep: (s: unknown, decisions: Decision[]) => summaries.push([s, decisions.length]),
      retry: () => {},
    };
    deployPinned(ecs, "a", "web", "web");
    deployPinned(ecs, "b", "api", "api", { tags: [] });
    const report = await handleEnforcerEvent(sweepEvent(), world.deps, observer);
    expect(report.sweep).toEqual({
      targets: 1,
      services: 2,
      describeServicesCalls: 3,
      byReason: { CONVERGED: 1, NOT_OPTED_IN: 1 },
      failures: [],
    });
    expect(seen.sort()).toEqual([
      ["CONVERGED", true],
      ["NOT_OPTED_IN", true],
    ]);
    expect(summaries).toEqual([[report.sweep, 2]]);
  });

  it("throws a retry when a sweep could read nothing at all, with the first failure's reason", async () => {
    const world = enforcerWorld(ecs);
    const retries: unknown[] = [];
    ecs.setFaults([
      fault.always("ListClusters", "error", { errorType: "AccessDeniedException", message: "no" }),
    ]);
    await expect(
      handleEnforcerEvent(sweepEvent(), world.deps, {
        ...world.observer,
        retry: (e, about) => retries.push([e.reason, about]),
      }),
    ).rejects.toMatchObject({
      name: "RetryableError",
      reason: "ACCESS_DENIED",
      message: "AccessDeniedException: no",
    });
    expect(retries).toEqual([["ACCESS_DENIED", {}]]);
  });

  it("returns an empty sweep (an account without clusters) without a retry", async () => {
    const world = enforcerWorld(ecs);
    const report = await handleEnforcerEvent(sweepEvent(), world.deps, world.observer);
    expect(report).toEqual({
      decisions: [],
      sweep: { targets: 1, services: 0, describeServicesCalls: 0, byReason: {}, failures: [] },
    });
    expect(world.sweeps).toEqual([report.sweep]);
  });

  it("returns a sweep that failed in one account but decided in another, without a retry", async () => {
    const world = enforcerWorld(ecs, { home: false });
    deployPinned(ecs, "prod", "web", "web");
    const client = await world.deps.ecsFor({ account: "", region: "" });
    world.deps.ecsFor = (t) => {
      if (t.account === "333333333333") throw new RetryableError("ACCESS_DENIED", "cannot assume the role");
      return client;
    };
    world.deps.sweepTargets = async () => ({
      targets: [
        { account: ecs.state.accountId, region: ecs.region },
        { account: "333333333333", region: ecs.region },
      ],
      failures: [{ account: "444444444444", region: ecs.region, reason: "NOT_LISTED", message: "gone" }],
    });
    const report = await handleEnforcerEvent(sweepEvent(), world.deps, world.observer);
    expect(report.sweep?.targets).toBe(2);
    expect(report.sweep?.failures).toEqual([
      { account: "444444444444", region: ecs.region, reason: "NOT_LISTED", message: "gone" },
      {
        account: "333333333333",
        region: ecs.region,
        reason: "ACCESS_DENIED",
        message: "cannot assume the role",
      },
    ]);
    expect(report.sweep?.byReason).toEqual({ CONVERGED: 1 });
  });

  it("turns an unexpected error into a retry (INTERNAL, with its cause) naming the service", async () => {
    const world = enforcerWorld(ecs);
    const { serviceArn } = deployPinned(ecs, "prod", "web", "web");
    const cause = new Error("no client");
    world.deps.ecsFor = () => {
      throw cause;
    };
    const retries: unknown[] = [];
    const observer = {
      ...world.observer,
      retry: (e: RetryableError, about: unknown) => retries.push([e.reason, about]),
    };
    await expect(
      handleEnforcerEvent(deploymentEvent(serviceArn), world.deps, observer),
    ).rejects.toMatchObject({
      name: "RetryableError",
      reason: "INTERNAL",
      message: "no client",
      cause,
    });
    expect(retries).toEqual([["INTERNAL", { service: serviceArn }]]);
  });

  it("reports an event it cannot act on once, as skipped with its reason", async () => {
    const world = enforcerWorld(ecs);
    const report = await handleEnforcerEvent({ "detail-type": "Object Created" }, world.deps, world.observer);
    expect(report).toEqual({
      decisions: [
        {
          outcome: "skipped",
          reason: "NOT_AN_ENFORCER_EVENT",
          message: "not a deployment, schedule or TagResource event",
        },
      ],
    });
    expect(world.decisions).toEqual(report.decisions);
  });
});

describe("the enforcer flow on an opt-in tag", () => {
  it("reports the injection of the tagged revision, then converges only the services running it", async () => {
    const world = enforcerWorld(ecs);
    const web = deployPinned(ecs, "prod", "web", "web", { tags: [] });
    const other = deployPinned(ecs, "prod", "other", "other", { tags: [] });
    ecs.state.tagResource(web.taskDefinitionArn, [OPT_IN]);
    ecs.state.tagResource(other.taskDefinitionArn, [OPT_IN]);
    // A service rolling out to the tagged revision is judged too (and comes back later).
    ecs.state.createService({ cluster: "prod", serviceName: "api", taskDefinition: other.taskDefinitionArn });
    ecs.state.updateService({ cluster: "prod", service: "api", taskDefinition: web.taskDefinitionArn });
    // Only the tagged revision's account and region are swept, whatever a scheduled sweep covers.
    world.deps.sweepTargets = () => Promise.reject(new Error("the tag's own account only"));
    const report = await handleEnforcerEvent(
      tagResourceEvent(web.taskDefinitionArn),
      world.deps,
      world.observer,
    );
    const copyArn = web.taskDefinitionArn.replace(/:1$/, ":2");
    expect(report.decisions).toEqual([
      { outcome: "converged", reason: "INJECTED", taskDefinitionArn: web.taskDefinitionArn, copyArn },
      expect.objectContaining({
        reason: "ROLLOUT_IN_PROGRESS",
        service: ecs.state.serviceArn("prod", "api"),
      }),
      expect.objectContaining({ reason: "CONVERGED", service: web.serviceArn, copyArn }),
    ]);
    expect(report.sweep).toMatchObject({
      targets: 1,
      services: 2,
      byReason: { CONVERGED: 1, ROLLOUT_IN_PROGRESS: 1 },
      failures: [],
    });
  });

  it("audit mode: would inject, and would converge its services", async () => {
    const world = enforcerWorld(ecs, { env: { DNS_CACHE_MODE: "audit" } });
    const web = deployPinned(ecs, "prod", "web", "web");
    const report = await handleEnforcerEvent(
      tagResourceEvent(web.taskDefinitionArn),
      world.deps,
      world.observer,
    );
    expect(report.decisions).toEqual([
      { outcome: "audited", reason: "WOULD_INJECT", taskDefinitionArn: web.taskDefinitionArn },
      expect.objectContaining({ outcome: "audited", reason: "WOULD_CONVERGE", service: web.serviceArn }),
    ]);
    expect(ecs.calls.count("RegisterTaskDefinition")).toBe(0);
  });

  it("skips the injection of a revision that is not the newest, with the copy path's message", async () => {
    const world = enforcerWorld(ecs);
    const web = deployPinned(ecs, "prod", "web", "web");
    ecs.state.registerTaskDefinition(appDefinition("web"), [OPT_IN]);
    const report = await handleEnforcerEvent(
      tagResourceEvent(web.taskDefinitionArn),
      world.deps,
      world.observer,
    );
    expect(report.decisions[0]).toEqual({
      outcome: "skipped",
      reason: "SUPERSEDED",
      taskDefinitionArn: web.taskDefinitionArn,
      message: "revision 2 is newer",
    });
    expect(report.decisions.slice(1)).toEqual([
      expect.objectContaining({ reason: "NO_COPY_FOR_OLDER_REVISION", service: web.serviceArn }),
    ]);
  });

  it("skips a tag in another account (FOREIGN_EVENT) without reading it", async () => {
    const world = enforcerWorld(ecs);
    const arn = "arn:aws:ecs:us-east-1:210987654321:task-definition/web:1";
    const report = await handleEnforcerEvent(tagResourceEvent(arn), world.deps, world.observer);
    expect(report).toEqual({
      decisions: [
        expect.objectContaining({ outcome: "skipped", reason: "FOREIGN_EVENT", taskDefinitionArn: arn }),
      ],
    });
    expect(ecs.calls.count()).toBe(0);
    expect(world.sweeps).toEqual([]);
  });
});
