// Benchmarks (figures printed, nothing asserted): bundle sizes, cold starts, ECS calls per outcome,
// and a burst of registrations against a rate-limited ECS stand-in. Run with `npm run bench`.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const root = new URL("..", import.meta.url).pathname;
process.chdir(root);
execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });

const { startEcsStandin } = await import("../test/support/ecs-standin.ts");
const { startDynamo, lambdaContext, loadHandler } = await import("../test/support/lambda.ts");
const { registrationEvent, loadEvent } = await import("../test/helpers/events.ts");
const { fargateApp } = await import("../test/helpers/fixtures.ts");

const only = process.argv.slice(2);
const want = (name) => only.length === 0 || only.includes(name);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const functions = readdirSync("dist", { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== "cli" && existsSync(`dist/${d.name}/index.mjs`))
  .map((d) => d.name);

function seed(ecs, family, tags = [{ key: "dns-cache", value: "enabled" }]) {
  const { tags: _, ...td } = fargateApp({ family });
  return ecs.state.registerTaskDefinition(td, tags).taskDefinition.revision;
}

const quiet = { POWERTOOLS_LOG_LEVEL: "ERROR", POWERTOOLS_METRICS_DISABLED: "true" };

if (want("size")) {
  console.log("\n## Bundle sizes");
  for (const name of [...functions, "cli"]) {
    const file = `dist/${name}/index.mjs`;
    const bytes = readFileSync(file);
    console.log(
      `${name.padEnd(10)} ${kib(statSync(file).size).padStart(10)}  (gzip ${kib(gzipSync(bytes).length)})`,
    );
  }
}

if (want("cold")) {
  console.log("\n## Cold start: process start + import + first handler call (median of 9, ms)");
  const ecs = await startEcsStandin({ recordInputs: false });
  const dynamo = await startDynamo();
  seed(ecs, "app");
  const events = {
    injector: registrationEvent("app", 1),
    health: existsSync("events/scheduled-sweep.json") ? loadEvent("scheduled-sweep.json") : {},
  };
  const env = {
    ...process.env,
    ...ecs.env(),
    ...quiet,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    DNS_CACHE_IDEMPOTENCY_TABLE: dynamo.tableName,
    DNS_CACHE_MODE: "audit",
  };
  // Asynchronous: the stand-ins answer from this process, so it must not block while a child runs.
  const time = (args) =>
    new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      execFile(process.execPath, args, { env }, (error, _stdout, stderr) => {
        if (error) {
          const why = stderr.split("\n").find((l) => /^\w*Error\b/.test(l)) ?? error.message;
          reject(new Error(why.slice(0, 300)));
        } else resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      });
    });
  const repeat = async (args) => {
    const xs = [];
    for (let i = 0; i < runs; i++) xs.push(await time(args));
    return xs;
  };
  const runs = 9;
  const bare = await repeat(["-e", "0"]);
  console.log(`${"node -e 0".padEnd(10)} ${median(bare).toFixed(0).padStart(6)} ms`);
  for (const name of functions) {
    const script = `const { handler } = await import(${JSON.stringify(`${root}dist/${name}/index.mjs`)});
const ctx = { functionName: "bench", awsRequestId: "1", invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench", memoryLimitInMB: "256", getRemainingTimeInMillis: () => 60000 };
await handler(${JSON.stringify(events[name] ?? {})}, ctx);`;
    const file = join(tmpdir(), `dns-cache-cold-${name}.mjs`);
    writeFileSync(file, script);
    let xs;
    try {
      xs = await repeat([file]);
    } catch (error) {
      console.log(`${name.padEnd(10)} failed: ${error.message}`);
      continue;
    }
    console.log(
      `${name.padEnd(10)} ${median(xs).toFixed(0).padStart(6)} ms  (+${(median(xs) - median(bare)).toFixed(0)} ms over bare node)`,
    );
  }
  await ecs.close();
  await dynamo.close();
}

if (want("calls")) {
  console.log("\n## ECS calls per outcome (injector)");
  const ecs = await startEcsStandin();
  const dynamo = await startDynamo();
  const handler = await loadHandler("injector", {
    ...ecs.env(),
    ...quiet,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    DNS_CACHE_IDEMPOTENCY_TABLE: dynamo.tableName,
    AWS_LAMBDA_FUNCTION_NAME: "dns-cache-injector",
  });
  const cases = [
    ["inject", () => registrationEvent("inj", seed(ecs, "inj"))],
    ["self-echo", () => loadEvent("register-by-injector.json")],
    ["not opted in", () => registrationEvent("plain", seed(ecs, "plain", []))],
    [
      "superseded",
      () => {
        const rev = seed(ecs, "old");
        seed(ecs, "old");
        return registrationEvent("old", rev);
      },
    ],
    [
      "refused (bridge)",
      () => {
        const { tags: _, ...td } = fargateApp({
          family: "bridge",
          networkMode: "bridge",
          requiresCompatibilities: ["EC2"],
        });
        const rev = ecs.state.registerTaskDefinition(td, [{ key: "dns-cache", value: "enabled" }])
          .taskDefinition.revision;
        return registrationEvent("bridge", rev);
      },
    ],
    ["duplicate event", () => registrationEvent("inj", 1)],
  ];
  for (const [name, make] of cases) {
    const event = make();
    ecs.calls.reset();
    const out = await handler(event, lambdaContext());
    const counts = ecs.calls.counts();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(
      `${name.padEnd(18)} ${String(total).padStart(2)} calls  ${JSON.stringify(counts)}  -> ${out.outcome}/${out.reason}`,
    );
  }
  await ecs.close();
  await dynamo.close();
}

if (want("burst")) {
  const total = Number(process.env.BENCH_BURST ?? 200);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 5);
  const rate = 20;
  console.log(
    `\n## Burst: ${total} opted-in registrations at once; RegisterTaskDefinition limited to ${rate}/s (burst ${rate}); ${concurrency} concurrent invocations`,
  );
  const ecs = await startEcsStandin({
    recordInputs: false,
    rateLimits: { RegisterTaskDefinition: { ratePerSecond: rate, burst: rate } },
  });
  const dynamo = await startDynamo();
  const env = {
    ...ecs.env(),
    ...quiet,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    DNS_CACHE_IDEMPOTENCY_TABLE: dynamo.tableName,
    AWS_LAMBDA_FUNCTION_NAME: "dns-cache-injector",
  };
  // Each concurrent invocation is its own Lambda instance: its own module copy, SDK client and retry state.
  const instances = [];
  for (let i = 0; i < concurrency; i++) instances.push(await loadHandler("injector", env));
  const families = Array.from({ length: total }, (_, i) => `burst-${i}`);
  const queue = families.map((f) => ({ event: registrationEvent(f, seed(ecs, f)), receives: 0 }));
  ecs.calls.reset();
  const visibilityMs = 1000;
  const t0 = performance.now();
  let throws = 0;
  let redeliveries = 0;
  await Promise.all(
    instances.map(async (handler) => {
      while (queue.length > 0 || redeliveries > 0) {
        const message = queue.shift();
        if (!message) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        message.receives++;
        try {
          await handler(message.event, lambdaContext());
        } catch {
          throws++;
          // As SQS does: visible again after the visibility timeout, dead-lettered after 5 receives.
          if (message.receives < 5) {
            redeliveries++;
            setTimeout(() => {
              redeliveries--;
              queue.push(message);
            }, visibilityMs);
          }
        }
      }
    }),
  );
  const makespan = (performance.now() - t0) / 1000;
  const injected = new Map();
  for (const td of ecs.state.allTaskDefinitions()) {
    if (td.status === "ACTIVE" && td.containerDefinitions.some((c) => c.name === "dns-cache"))
      injected.set(td.family, (injected.get(td.family) ?? 0) + 1);
  }
  const lost = families.filter((f) => !injected.has(f)).length;
  const duplicated = [...injected.values()].filter((n) => n > 1).length;
  // The bucket starts full: the first `rate` calls go at once, the rest at `rate` per second.
  const floor = (total - rate) / rate;
  const throttled = ecs.calls.count("RegisterTaskDefinition", { errorType: "ThrottlingException" });
  console.log(
    `makespan ${makespan.toFixed(2)} s; floor ${floor.toFixed(2)} s with the initial burst, ${(total / rate).toFixed(2)} s without (${((makespan / floor - 1) * 100).toFixed(1)}% over the first)`,
  );
  console.log(
    `injected ${injected.size}/${total}, lost ${lost}, duplicated ${duplicated}; RegisterTaskDefinition calls ${ecs.calls.count("RegisterTaskDefinition")} (${throttled} throttled); invocations that threw ${throws}`,
  );
  await ecs.close();
  await dynamo.close();
}
if (want("sweep")) {
  const { seedFleet } = await import("../test/support/fleet.ts");
  const { startEventBridgeStandin } = await import("../test/support/eventbridge-standin.ts");
  console.log("\n## Health sweep: 10,000 running tasks in 100 clusters, bundled handler, scheduled event");
  for (const limit of [undefined, { ratePerSecond: 20, burst: 10 }]) {
    const ecs = await startEcsStandin({
      recordInputs: false,
      ...(limit ? { rateLimits: { DescribeTasks: limit } } : {}),
    });
    const bus = await startEventBridgeStandin();
    const fleet = seedFleet(ecs.state, { clusters: 100, tasksPerCluster: 100, seed: 1 });
    const handler = await loadHandler("health", {
      ...ecs.env(),
      ...quiet,
      AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url,
    });
    ecs.calls.reset();
    const t0 = performance.now();
    const summary = await handler(loadEvent("scheduled-sweep.json"), lambdaContext("dns-cache-health"));
    const ms = performance.now() - t0;
    const ok = ecs.calls.counts({ outcome: "ok" });
    const answered = Object.values(ok).reduce((a, b) => a + b, 0);
    const budget = 2.1 * (fleet.tasks / 100) + 100 + fleet.taskDefinitionsWithoutSidecar;
    const throttled = ecs.calls.count("DescribeTasks", { errorType: "ThrottlingException" });
    console.log(
      `${limit ? `DescribeTasks limited to ${limit.ratePerSecond}/s (burst ${limit.burst})` : "no rate limit"}: ${(ms / 1000).toFixed(2)} s; ECS calls ${answered} answered (budget ${budget}): ${JSON.stringify(ok)}; ${throttled} throttled; alerts ${summary.alertsSent} in ${bus.calls()} PutEvents`,
    );
    await ecs.close();
    await bus.close();
  }
}
if (want("enforcer")) {
  const { benchEnforcer } = await import("./bench-enforcer.ts");
  await benchEnforcer();
}
process.exit(0);
