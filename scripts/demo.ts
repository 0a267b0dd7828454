/**
 * `npm run demo`: the whole loop against the in-process ECS stand-in, told as a story. Node 24 runs this
 * TypeScript directly (erasable syntax only). No AWS account: the real SDK talks to the stand-in over HTTP,
 * the duplicate guard and the enforcer's memory live in dynalite (an in-process DynamoDB).
 */

import { ECSClient } from "@aws-sdk/client-ecs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { handleEnforcerEvent } from "#shared/enforcer/flow.ts";
import { coverageOf } from "#shared/health/classify.ts";
import { loadHealthConfig } from "#shared/health/config.ts";
import type { HealthObserver } from "#shared/health/invocation.ts";
import { sweep as healthSweep } from "#shared/health/sweep.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import { handleRegistrationEvent } from "#shared/injector/flow.ts";
import { deploymentEvent, registrationEvent } from "../test/helpers/events.ts";
import { startEcsStandin } from "../test/support/ecs-standin.ts";
import { deployPinned, enforcerWorld } from "../test/support/enforcer-world.ts";
import { startEventBridgeStandin } from "../test/support/eventbridge-standin.ts";
import { lambdaContext, startDynamo } from "../test/support/lambda.ts";

const ecs = await startEcsStandin({ recordInputs: true });
const dynamo = await startDynamo();
const bus = await startEventBridgeStandin();
const world = enforcerWorld(ecs, { dynamo });
world.deps.guard.registerLambdaContext(lambdaContext("dns-cache-enforcer"));

const short = (arn: unknown) => String(arn ?? "").replace(/^arn:aws:ecs:[^:]+:\d+:/, "");
const say = (text: string) => console.log(text);
const step = (n: number, title: string) => say(`\n${n}. ${title}`);
let mark = 0;
function callsSince(): string {
  const calls = ecs.calls.list().slice(mark);
  mark = ecs.calls.list().length;
  const byOp = new Map<string, number>();
  for (const c of calls) byOp.set(c.operation, (byOp.get(c.operation) ?? 0) + 1);
  return [...byOp].map(([op, n]) => `${op}×${n}`).join(", ") || "none";
}
async function enforcerHears(serviceArn: string) {
  const [d] = (await handleEnforcerEvent(deploymentEvent(serviceArn), world.deps, world.observer)).decisions;
  say(`   enforcer: ${d?.outcome} ${d?.reason}${d?.copyArn ? ` → ${short(d.copyArn)}` : ""}`);
  if (d?.advice) say(`   advice: ${d.advice}`);
  say(`   ECS calls: ${callsSince()}`);
  return d;
}

try {
  say("dns-cache: the enforcement loop, played against an in-process ECS (no AWS account needed)");

  step(
    1,
    "A pipeline registers web:1 tagged dns-cache=enabled and deploys exactly web:1 to service prod/web",
  );
  const { serviceArn, taskDefinitionArn } = deployPinned(ecs, "prod", "web", "web", {
    serviceTags: [{ key: "ManagedBy", value: "terraform" }],
    complete: false,
  });
  say(`   service prod/web runs ${short(taskDefinitionArn)} (2 tasks, no DNS cache)`);

  step(2, "The deployment completes: ECS sends SERVICE_DEPLOYMENT_COMPLETED");
  ecs.state.completeDeployment(serviceArn);
  mark = ecs.calls.list().length;

  step(
    3,
    "The enforcer makes the copy of exactly web:1 and moves the service to it (UpdateService, nothing else)",
  );
  await enforcerHears(serviceArn);

  step(4, "Its own rollout completes: the next COMPLETED event ends with 1 read and 0 writes");
  ecs.state.completeDeployment(serviceArn);
  mark = ecs.calls.list().length;
  await enforcerHears(serviceArn);

  step(5, "Minutes later the injector's CloudTrail event for web:1 arrives and finds the same copy");
  const injector = {
    config: loadInjectorConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: dynamo.tableName }),
    ecsFor: () => world.deps.ecsFor({ account: "", region: "" }),
    guard: world.deps.guard,
  };
  injector.guard.registerLambdaContext(lambdaContext());
  const late = await handleRegistrationEvent(registrationEvent("web", 1), injector, {
    outcome: () => {},
    retry: () => {},
  });
  say(
    `   injector: ${late.outcome} ${late.reason} (first answer: ${String(late.firstOutcome ?? late.reason)}) → ${short(late.injectedTaskDefinitionArn)}`,
  );
  say(`   ECS calls: ${callsSince()}   (one copy per source, whoever gets there first)`);

  step(6, "The health sweep looks at every running task");
  const counts: Record<string, Record<string, number>> = {};
  const observer: HealthObserver = {
    finding: () => {},
    ignored: () => {},
    problem: () => {},
    clusterCounts: (cluster, c) => {
      counts[cluster] = { ...c };
    },
    alertsFailed: () => {},
    accountsFailed: () => {},
    summary: () => {},
  };
  const client = new ECSClient({ ...ecs.clientConfig(), maxAttempts: 3 });
  const events = new EventBridgeClient({
    endpoint: bus.url,
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
  });
  await healthSweep({
    config: loadHealthConfig({}),
    ecsFor: () => client,
    sweepEcs: client,
    events,
    observer,
  });
  for (const [cluster, c] of Object.entries(counts)) {
    const coverage = coverageOf(c as never);
    say(
      `   cluster ${cluster}: coverage ${coverage === undefined ? "n/a" : `${coverage.toFixed(0)} %`} of running opted-in tasks have the cache`,
    );
  }

  step(7, "terraform apply puts task_definition = web:1 back (no ignore_changes)");
  ecs.state.updateService({ cluster: "prod", service: serviceArn, taskDefinition: taskDefinitionArn });
  ecs.state.completeDeployment(serviceArn);
  mark = ecs.calls.list().length;
  await enforcerHears(serviceArn);
  say(
    `   alerts put on EventBridge (source dns-cache): ${world.alerts.length} — ${world.alerts.map((a) => a.detailType).join(", ")}`,
  );

  step(8, "The next event for the same revision: still reported, not alerted again, never fought");
  await enforcerHears(serviceArn);
  say(`   alerts so far: ${world.alerts.length}`);
  say(
    "\nDone: the service ran the cache within one deployment, and IaC that pins the source was reported once.",
  );
} finally {
  await ecs.close();
  await dynamo.close();
  await bus.close();
}
