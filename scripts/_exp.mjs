import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";

const { startEcsStandin } = await import("../test/support/ecs-standin.ts");
const { startDynamo } = await import("../test/support/lambda.ts");
const { registrationEvent } = await import("../test/helpers/events.ts");
const { fargateApp } = await import("../test/helpers/fixtures.ts");
const ecs = await startEcsStandin({ recordInputs: false });
const dynamo = await startDynamo();
const seed = (f) => {
  const { tags: _, ...td } = fargateApp({ family: f });
  return ecs.state.registerTaskDefinition(td, [{ key: "dns-cache", value: "enabled" }]).taskDefinition
    .revision;
};
const runner = process.env.RUNNER ?? "/tmp/exp/runner.mjs";
if (!process.env.RUNNER)
  writeFileSync(
    runner,
    `const t=[performance.now()];const { handler } = await import(process.argv[2]);t.push(performance.now());
const ctx = { functionName: "bench", functionVersion: "$LATEST", awsRequestId: "1", invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench", memoryLimitInMB: "512", getRemainingTimeInMillis: () => 60000 };
const out = await handler(JSON.parse(process.env.BENCH_EVENT), ctx); t.push(performance.now());
const out2 = await handler(JSON.parse(process.env.BENCH_EVENT2), ctx); t.push(performance.now());
process.stdout.write(JSON.stringify({t: t.map(x=>Math.round(x)), o: out.outcome, o2: out2.outcome})); process.exit(0);`,
  );
const [bundle, mode, ...extra] = process.argv.slice(2);
for (let i = 0; i < Number(process.env.N ?? 5); i++) {
  const env = {
    ...process.env,
    ...ecs.env(),
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    DNS_CACHE_IDEMPOTENCY_TABLE: dynamo.tableName,
    DNS_CACHE_MODE: mode,
    BENCH_EVENT: JSON.stringify(registrationEvent("app", seed("app"))),
    BENCH_EVENT2: JSON.stringify(registrationEvent("app2", seed("app2"))),
  };
  const out = await new Promise((r) =>
    execFile("/work/wt-cold/node_modules/.bin/node", [...extra, runner, bundle], { env }, (e, so, se) =>
      r(e ? se.slice(0, 500) : so + "\n" + se),
    ),
  );
  console.log(out);
}
await ecs.close();
await dynamo.close();
process.exit(0);
