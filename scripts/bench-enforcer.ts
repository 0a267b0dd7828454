/**
 * The enforcer's section of `npm run bench` (`node scripts/bench.mjs enforcer` alone): ECS calls on the
 * event path, and a reconcile sweep of 1,000 services in 50 clusters, also under a 20/s DescribeServices
 * limit. Runs the flows with the real SDK against the in-process ECS stand-in and dynalite; prints figures.
 */
import { handleEnforcerEvent } from "#shared/enforcer/flow.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import { handleRegistrationEvent } from "#shared/injector/flow.ts";
import { deploymentEvent, loadEvent, registrationEvent } from "../test/helpers/events.ts";
import { type EcsStandin, type RateLimits, startEcsStandin } from "../test/support/ecs-standin.ts";
import { appDefinition, deployPinned, enforcerWorld, OPT_IN } from "../test/support/enforcer-world.ts";
import { startDynamo } from "../test/support/lambda.ts";

const READS = [
  "DescribeServices",
  "DescribeTaskDefinition",
  "ListTaskDefinitions",
  "ListServices",
  "ListClusters",
];
const WRITES = ["RegisterTaskDefinition", "UpdateService", "DeregisterTaskDefinition"];

function tally(ecs: EcsStandin): { reads: number; writes: number; detail: string } {
  const ok = ecs.calls.counts({ outcome: "ok" }) as Record<string, number>;
  const sum = (ops: string[]) => ops.reduce((n, op) => n + (ok[op] ?? 0), 0);
  return { reads: sum(READS), writes: sum(WRITES), detail: JSON.stringify(ok) };
}

async function eventPath(): Promise<void> {
  console.log(
    "\n## Enforcer: ECS calls on the event path (SERVICE_DEPLOYMENT_COMPLETED), budget ≤ 4 reads + 1 UpdateService (+1 registration)",
  );
  const ecs = await startEcsStandin({ recordInputs: false });
  const dynamo = await startDynamo("bench-enforcer-events");
  const world = enforcerWorld(ecs, { dynamo });
  const row = async (label: string, serviceArn: string) => {
    ecs.calls.reset();
    const [d] = (await handleEnforcerEvent(deploymentEvent(serviceArn), world.deps, world.observer))
      .decisions;
    const t = tally(ecs);
    console.log(
      `${label.padEnd(58)} ${String(d?.reason).padEnd(27)} reads ${t.reads}, writes ${t.writes}  ${t.detail}`,
    );
  };
  const a = deployPinned(ecs, "prod", "a", "a");
  await row("pinned opted-in revision, no copy yet", a.serviceArn);
  ecs.state.completeDeployment(a.serviceArn);
  await row("its own deployment completes (already injected)", a.serviceArn);
  const b = deployPinned(ecs, "prod", "b", "b");
  const injector = {
    config: loadInjectorConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: "x" }),
    ecsFor: () => world.deps.ecsFor({ account: "", region: "" }),
    guard: world.deps.guard,
  };
  await handleRegistrationEvent(registrationEvent("b", 1), injector, { outcome: () => {}, retry: () => {} });
  await row("pinned revision, the injector made the copy already", b.serviceArn);
  const c = deployPinned(ecs, "prod", "c", "c", { tags: [] });
  await row("revision not opted in", c.serviceArn);
  const d = deployPinned(ecs, "prod", "d", "d");
  await handleEnforcerEvent(deploymentEvent(d.serviceArn), world.deps, world.observer);
  ecs.state.completeDeployment(d.serviceArn);
  ecs.state.registerTaskDefinition(appDefinition("d"), [OPT_IN]);
  const other = ecs.state.createService({
    cluster: "prod",
    serviceName: "d2",
    taskDefinition: d.taskDefinitionArn,
  });
  await row("older revision whose copy exists (moved to it)", other.serviceArn ?? "");
  await ecs.close();
  await dynamo.close();
}

async function sweep(limits: RateLimits | undefined): Promise<void> {
  const ecs = await startEcsStandin({ recordInputs: false, ...(limits ? { rateLimits: limits } : {}) });
  const dynamo = await startDynamo("bench-enforcer-sweep");
  const world = enforcerWorld(ecs, { dynamo });
  const clusters = 50;
  const perCluster = 20;
  const families = 100;
  // 70 of 100 families opted in; each service runs its family's only revision.
  for (let f = 0; f < families; f++)
    ecs.state.registerTaskDefinition(appDefinition(`f${f}`), f < 70 ? [OPT_IN] : []);
  for (let c = 0; c < clusters; c++) {
    ecs.state.addCluster(`c${c}`);
    for (let s = 0; s < perCluster; s++) {
      ecs.state.createService({
        cluster: `c${c}`,
        serviceName: `s${s}`,
        taskDefinition: `f${(c * perCluster + s) % families}:1`,
      });
    }
  }
  const services = clusters * perCluster;
  for (const round of ["first sweep", "second sweep", "third sweep"]) {
    ecs.calls.reset();
    const t0 = performance.now();
    const report = await handleEnforcerEvent(loadEvent("scheduled-sweep.json"), world.deps, world.observer);
    const ms = performance.now() - t0;
    const ok = ecs.calls.counts({ outcome: "ok" }) as Record<string, number>;
    const throttled = ecs.calls.count("DescribeServices", { errorType: "ThrottlingException" });
    const bound = clusters * (Math.ceil(perCluster / 10) + 1);
    console.log(
      `${limits ? "DescribeServices limited to 20/s" : "no rate limit"}, ${round}: ${(ms / 1000).toFixed(2)} s; ${report.sweep?.services}/${services} services judged, ${report.sweep?.failures.length} failures; ` +
        `DescribeServices ${ok.DescribeServices} (bound ${bound}), DescribeTaskDefinition ${ok.DescribeTaskDefinition ?? 0} (distinct revisions ${families} + copies), ` +
        `RegisterTaskDefinition ${ok.RegisterTaskDefinition ?? 0}, UpdateService ${ok.UpdateService ?? 0}; ${throttled} throttled; by reason ${JSON.stringify(report.sweep?.byReason)}`,
    );
    // Let every moved service finish its rollout before the next round.
    for (let c = 0; c < clusters; c++)
      for (let s = 0; s < perCluster; s++) {
        const arn = ecs.state.serviceArn(`c${c}`, `s${s}`);
        if ((ecs.state.getService(arn)?.deployments?.length ?? 0) > 0) ecs.state.completeDeployment(arn);
      }
  }
  await ecs.close();
  await dynamo.close();
}

export async function benchEnforcer(): Promise<void> {
  await eventPath();
  console.log("\n## Enforcer sweep: 1,000 services in 50 clusters (70 % of families opted in)");
  await sweep(undefined);
  await sweep({ DescribeServices: { ratePerSecond: 20, burst: 20 } });
}
