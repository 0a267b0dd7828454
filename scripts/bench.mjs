// Benchmarks (figures printed, nothing asserted): bundle sizes and cold starts against a naive handler and
// their targets, ECS calls per outcome, a burst of registrations against a rate-limited ECS stand-in, a sweep.
//   npm run bench [-- size cold calls burst sweep]   all sections, or those named
//   BENCH_RUNS=21                                     cold-start rounds (each runs every case once)
//   npm run bench -- size cold --baseline <dist>      also measure another build's dist/ (an older commit's),
//     [--baseline-node-options=--enable-source-maps]  with the NODE_OPTIONS its template set, in the same rounds
import { execFile, execFileSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import tls from "node:tls";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { buildAll, functionNames } from "./build.mjs";

const root = new URL("..", import.meta.url).pathname;
process.chdir(root);
const { values: flags, positionals: only } = parseArgs({
  allowPositionals: true,
  options: { baseline: { type: "string" }, "baseline-node-options": { type: "string" } },
});
const dist = resolve("dist");
const baseline = flags.baseline ? resolve(flags.baseline) : undefined;
await buildAll();

const { startEcsStandin } = await import("../test/support/ecs-standin.ts");
const { startDynamo, lambdaContext, loadHandler } = await import("../test/support/lambda.ts");
const { registrationEvent, loadEvent } = await import("../test/helpers/events.ts");
const { fargateApp } = await import("../test/helpers/fixtures.ts");

const want = (name) => only.length === 0 || only.includes(name);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const bytes = (n) => n.toLocaleString("en-US");
const functions = functionNames();
const baselineFunctions = baseline
  ? readdirSync(baseline, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(baseline, d.name, "index.mjs")) && d.name !== "cli")
      .map((d) => d.name)
  : [];
const verdict = (met, reason) => (met ? "met" : `NOT MET: ${reason}`);

function seed(ecs, family, tags = [{ key: "dns-cache", value: "enabled" }]) {
  const { tags: _, ...td } = fargateApp({ family });
  return ecs.state.registerTaskDefinition(td, tags).taskDefinition.revision;
}

const quiet = { POWERTOOLS_LOG_LEVEL: "ERROR", POWERTOOLS_METRICS_DISABLED: "true" };

// Targets (issue 12), per function. KB = 1,000 bytes.
const EAGER_MAX = 400_000;
const TOTAL_MAX = 600_000;

/** Relative modules a bundle file imports statically (loaded with it) and dynamically (on demand). */
function importsOf(file) {
  const code = readFileSync(file, "utf8");
  const relative = (re) => [...code.matchAll(re)].map((m) => resolve(dirname(file), m[1]));
  return {
    eager: relative(/\b(?:import|export)\s*(?:[^"'();]*?\bfrom\s*)?["'](\.\.?\/[^"']+\.mjs)["']/g),
    lazy: relative(/\bimport\(\s*["'](\.\.?\/[^"']+\.mjs)["']\s*\)/g),
  };
}

/** A function's artifact: bytes loaded at import (the entry and what it imports statically) and in all. */
function sizesOf(name, from = dist) {
  const dir = join(from, name);
  const files = readdirSync(dir, { recursive: true }).map((f) => join(dir, f));
  const js = files.filter((f) => f.endsWith(".mjs"));
  const maps = files.filter((f) => f.endsWith(".map"));
  const loaded = new Set();
  const visit = (file) => {
    if (loaded.has(file)) return;
    loaded.add(file);
    for (const next of importsOf(file).eager) visit(next);
  };
  visit(join(dir, "index.mjs"));
  const sum = (list) => list.reduce((n, f) => n + statSync(f).size, 0);
  return { eager: sum([...loaded]), total: sum(js), files: js.length, maps: sum(maps) };
}

if (want("size")) {
  console.log("\n## Bundle sizes (bytes): the deployed artifact of each function");
  console.log(
    `${"function".padEnd(18)} ${"at import".padStart(10)} ${"total".padStart(10)} files  maps in artifact  targets`,
  );
  for (const name of functions) {
    const s = sizesOf(name);
    const eagerOk = s.eager <= EAGER_MAX;
    const totalOk = s.total <= TOTAL_MAX;
    console.log(
      `${name.padEnd(18)} ${bytes(s.eager).padStart(10)} ${bytes(s.total).padStart(10)} ${String(s.files).padStart(5)}  ${bytes(s.maps).padStart(16)}  ` +
        `at import <= ${bytes(EAGER_MAX)}: ${verdict(eagerOk, `${bytes(s.eager - EAGER_MAX)} over`)}; ` +
        `total <= ${bytes(TOTAL_MAX)}: ${verdict(totalOk, `${bytes(s.total - TOTAL_MAX)} over`)}`,
    );
  }
  for (const name of baselineFunctions) {
    const s = sizesOf(name, baseline);
    console.log(
      `${`before: ${name}`.padEnd(18)} ${bytes(s.eager).padStart(10)} ${bytes(s.total).padStart(10)} ${String(s.files).padStart(5)}  ${bytes(s.maps).padStart(16)}  (${baseline})`,
    );
  }
  const cli = join(dist, "cli/index.mjs");
  if (existsSync(cli)) console.log(`${"cli".padEnd(18)} ${bytes(statSync(cli).size).padStart(10)}`);
}

/** The naive handler, built as a team would: esbuild, ESM, minified, one file. */
async function buildNaive(dir) {
  const outfile = join(dir, "naive/index.mjs");
  await build({
    entryPoints: [join(root, "scripts/naive-handler.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    minify: true,
    mainFields: ["module", "main"],
    legalComments: "none",
    logLevel: "warning",
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return outfile;
}

/**
 * Lambda reaches AWS over HTTPS, and the SDK loads node:http only for plain-http endpoints: a TLS front
 * (self-signed, trusted through NODE_EXTRA_CA_CERTS) before each stand-in makes the bench do the same.
 * Without openssl, the stand-ins are used over plain HTTP and the bench says so.
 */
async function tlsFronts(dir, urls) {
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
        .concat(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        .concat(["-keyout", key, "-out", cert]),
      { stdio: "ignore" },
    );
  } catch {
    return {
      urls,
      env: {},
      note: "plain HTTP (no openssl: the SDK loads node:http, which Lambda does not)",
      close() {},
    };
  }
  const options = { key: readFileSync(key), cert: readFileSync(cert) };
  const servers = [];
  const fronted = [];
  for (const url of urls) {
    const { port } = new URL(url);
    const server = tls.createServer(options, (client) => {
      const upstream = net.connect(Number(port), "127.0.0.1");
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise((listening) => server.listen(0, "127.0.0.1", listening));
    servers.push(server);
    fronted.push(`https://127.0.0.1:${server.address().port}`);
  }
  return {
    urls: fronted,
    env: { NODE_EXTRA_CA_CERTS: cert },
    note: "HTTPS, as in Lambda",
    close: () => Promise.all(servers.map((s) => new Promise((closed) => s.close(closed)))),
  };
}

/** The project's Node 24 (the `node` devDependency), whatever node runs this script. */
function projectNode() {
  const local = join(root, "node_modules/.bin/node");
  return existsSync(local) ? realpathSync(local) : process.execPath;
}

if (want("cold")) {
  const runs = Number(process.env.BENCH_RUNS ?? 21);
  const node = projectNode();
  const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  const work = mkdtempSync(join(tmpdir(), "dns-cache-bench-"));
  const naive = await buildNaive(work);
  const ecs = await startEcsStandin({ recordInputs: false });
  const dynamo = await startDynamo();
  const appRevision = seed(ecs, "app");
  // The enforcer's services live in an ECS of their own, so the health sweep's case sees the same account as before.
  const serviceEcs = await startEcsStandin({ recordInputs: false });
  const front = await tlsFronts(work, [ecs.url, dynamo.url, serviceEcs.url]);
  const [ecsUrl, dynamoUrl, serviceEcsUrl] = front.urls;
  const base = {
    ...process.env,
    ...ecs.env(),
    ...quiet,
    ...front.env,
    AWS_ENDPOINT_URL_ECS: ecsUrl,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl,
    DNS_CACHE_IDEMPOTENCY_TABLE: dynamo.tableName,
  };
  // A Lambda runtime's cold start: start the process, import the handler, answer one event.
  const runner = join(work, "runner.mjs");
  writeFileSync(
    runner,
    `const { handler } = await import(process.argv[2]);
const imported = performance.now();
const ctx = { functionName: "bench", functionVersion: "$LATEST", awsRequestId: "1", invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench", memoryLimitInMB: "512", getRemainingTimeInMillis: () => 60000 };
let outcome;
try { const out = await handler(JSON.parse(process.env.BENCH_EVENT), ctx); outcome = out?.outcome ?? out?.results?.[0]?.outcome ?? (out?.trigger ? out.trigger + " (" + out.tasksExamined + " tasks, " + out.callsFailed + " calls failed)" : JSON.stringify(out)?.slice(0, 40)); }
catch (error) { outcome = "threw " + (error?.name ?? "error"); }
const { user, system } = process.cpuUsage();
process.stdout.write(JSON.stringify({ imported, called: performance.now(), cpu: (user + system) / 1000, outcome }));
process.exit(0);`,
  );
  const bundle = (name) => join(dist, name, "index.mjs");
  // The injector reads its events from SQS (infra/template.yaml): a batch of one, as Lambda delivers it.
  const viaSqs = (event) => ({
    Records: [{ ...loadEvent("register-sqs.json").Records[0], body: JSON.stringify(event) }],
  });
  const fresh = (family) => viaSqs(registrationEvent(family, seed(ecs, family)));
  const sweep = loadEvent("scheduled-sweep.json");
  serviceEcs.state.addCluster("bench");
  let services = 0;
  /** A new family, deployed pinned to a new service, its deployment completed: the enforcer's trigger. */
  const pinnedDeployment = () => {
    const family = `svc${++services}`;
    const revision = seed(serviceEcs, family);
    const service = serviceEcs.state.createService({
      cluster: "bench",
      serviceName: family,
      taskDefinition: `${family}:${revision}`,
    });
    const completed = loadEvent("deployment-completed.json");
    return viaSqs({ ...completed, resources: [service.serviceArn] });
  };
  /** Cold-start cases per function: the modes its first call can take. Add a function's cases here. */
  const CASES = {
    injector: [
      {
        label: "inject mode",
        env: { DNS_CACHE_MODE: "inject" },
        event: () => fresh("app"),
        max: 1,
        calls: "4 API calls (ECS 2, DynamoDB 2) over 2 connections",
      },
      {
        label: "audit mode",
        env: { DNS_CACHE_MODE: "audit" },
        event: () => fresh("app"),
        max: 1,
        below: true,
      },
    ],
    // A completed deployment of a pinned, opted-in revision with no copy yet: the longest first call
    // (DescribeServices twice, DescribeTaskDefinition, RegisterTaskDefinition, UpdateService, the guard).
    enforcer: [
      {
        label: "deployment completed, enforce",
        env: {
          DNS_CACHE_MODE: "enforce",
          DNS_CACHE_CHECK_STACKS: "off",
          AWS_ENDPOINT_URL_ECS: serviceEcsUrl,
        },
        event: () => pinnedDeployment(),
        max: 1,
        calls: "5 ECS calls and 3 DynamoDB calls over 2 connections",
      },
      {
        label: "deployment completed, audit",
        // As deployed in audit mode: no table (infra/template.yaml sets it in enforce mode only).
        env: {
          DNS_CACHE_MODE: "audit",
          DNS_CACHE_CHECK_STACKS: "off",
          DNS_CACHE_IDEMPOTENCY_TABLE: "",
          AWS_ENDPOINT_URL_ECS: serviceEcsUrl,
        },
        event: () => pinnedDeployment(),
        max: 1,
        below: true,
      },
    ],
    health: [
      { label: "sweep", env: {}, event: () => sweep, max: 1 },
      { label: "task event", env: {}, event: () => loadEvent("task-state-change-running.json"), max: 1 },
    ],
  };
  const casesOf = (fn) =>
    CASES[fn] ?? [{ label: "empty event (no case in bench.mjs)", env: {}, event: () => ({}), max: 1 }];
  const cases = [
    { name: "node -e 0", args: ["-e", "0"], env: {}, event: () => ({}) },
    { name: "naive", args: [runner, naive], env: {}, event: () => registrationEvent("app", appRevision) },
    ...functions.flatMap((fn) =>
      casesOf(fn).map((c) => ({ ...c, name: `${fn} ${c.label}`, fn, args: [runner, bundle(fn)] })),
    ),
    // The baseline: the same cases, no targets.
    ...baselineFunctions.flatMap((fn) =>
      casesOf(fn).map(({ max: _, ...c }) => ({
        ...c,
        name: `before: ${fn} ${c.label}`,
        fn,
        args: [runner, join(baseline, fn, "index.mjs")],
        env: {
          ...c.env,
          ...(flags["baseline-node-options"] ? { NODE_OPTIONS: flags["baseline-node-options"] } : {}),
        },
      })),
    ),
  ];
  // Asynchronous: the stand-ins answer from this process, so it must not block while a child runs.
  const time = (c) =>
    new Promise((resolveRun, reject) => {
      const env = {
        ...base,
        ...c.env,
        AWS_LAMBDA_FUNCTION_NAME: c.fn ? `dns-cache-${c.fn}` : "naive",
        BENCH_EVENT: JSON.stringify(c.event()),
      };
      const t0 = process.hrtime.bigint();
      execFile(node, c.args, { env }, (error, stdout, stderr) => {
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (error) {
          const why = stderr.split("\n").find((l) => /^\w*Error\b/.test(l)) ?? error.message;
          reject(new Error(`${c.name}: ${why.slice(0, 300)}`));
        } else resolveRun({ ms, ...(stdout ? JSON.parse(stdout) : {}) });
      });
    });
  const samples = cases.map(() => []);
  // Round robin (A B A B …), starting each round at the next case: the machine's noise falls on every case alike.
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (round + k) % cases.length;
      samples[i].push(await time(cases[i]));
    }
  }
  await front.close();
  await ecs.close();
  await serviceEcs.close();
  await dynamo.close();
  const [bare, naiveRuns] = samples;
  const ms = (xs, key = "ms") => median(xs.map((x) => x[key]));
  const paired = (xs, ys) => median(xs.map((x, r) => x.ms / ys[r].ms));
  console.log(
    `\n## Cold start: process start + import + first call; median of ${runs} alternating rounds, Node ${version}, stand-ins over ${front.note}` +
      `\n   ratios are medians of each round's ratio; import and first call in ms from process start`,
  );
  console.log(
    `${"case".padEnd(30)} ${"ms".padStart(5)} ${"x naive".padStart(8)} ${"x bare".padStart(7)} ${"import".padStart(7)} ${"call".padStart(6)} ${"cpu".padStart(5)} ${"cpu x naive".padStart(11)}  first call's outcome  target`,
  );
  for (const [i, c] of cases.entries()) {
    const xs = samples[i];
    const toNaive = paired(xs, naiveRuns);
    let target = "";
    if (c.max !== undefined) {
      const met = c.below ? toNaive < c.max : toNaive <= c.max;
      const why =
        `import ${ms(xs, "imported").toFixed(0)} ms vs naive ${ms(naiveRuns, "imported").toFixed(0)} ms, ` +
        `first call ${(ms(xs, "called") - ms(xs, "imported")).toFixed(0)} ms vs naive ${(ms(naiveRuns, "called") - ms(naiveRuns, "imported")).toFixed(0)} ms` +
        `, CPU ${ms(xs, "cpu").toFixed(0)} ms vs naive ${ms(naiveRuns, "cpu").toFixed(0)} ms` +
        (c.calls ? `, ${c.calls} vs naive's 1 API call` : "") +
        (c.fn ? `, ${bytes(sizesOf(c.fn).eager)} B loaded at import` : "");
      target = `${c.below ? "<" : "<="} ${c.max.toFixed(2)}x naive: ${verdict(met, why)}`;
    }
    const cpu = xs[0].cpu === undefined ? "" : ms(xs, "cpu").toFixed(0);
    const cpuToNaive =
      xs[0].cpu === undefined ? "" : median(xs.map((x, r) => x.cpu / naiveRuns[r].cpu)).toFixed(2);
    const imported = xs[0].imported === undefined ? "" : ms(xs, "imported").toFixed(0);
    const called = xs[0].called === undefined ? "" : (ms(xs, "called") - ms(xs, "imported")).toFixed(0);
    console.log(
      `${c.name.padEnd(30)} ${ms(xs).toFixed(0).padStart(5)} ${toNaive.toFixed(2).padStart(8)} ${paired(xs, bare).toFixed(2).padStart(7)} ${imported.padStart(7)} ${called.padStart(6)} ${cpu.padStart(5)} ${cpuToNaive.padStart(11)}  ${String(xs[0].outcome ?? "").padEnd(20)}  ${target}`,
    );
  }
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
