#!/usr/bin/env node
/**
 * Bridge-mode fallback lab: what a lookup costs a bridge container when the node cache is up, stopped,
 * absent or frozen. Network namespaces only (root, `ip netns`); it touches nothing outside its own
 * namespaces and files, and removes them when it ends.
 *
 *   node  (netns dcl-node): the node cache on 169.254.20.10 (a dummy interface, or `lo` where the kernel has
 *         no dummy module), a stand-in VPC resolver on 169.254.169.253, a bridge br0 (docker0's role)
 *   c-N   (netns dcl-c*): "containers" behind the bridge through veth pairs, each with its own resolv.conf
 *         (`ip netns exec` binds /etc/netns/NAME/resolv.conf), running glibc and musl getaddrinfo clients
 *
 * dnsmasq stands in for CoreDNS on both addresses (no CoreDNS binary here); what is measured is the
 * client resolvers' behaviour, which does not depend on the server software.
 *
 * Usage: npm run bridge-lab [-- --quick]. Exits 0 with a note where namespaces cannot be created.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const NODE_CACHE = "169.254.20.10";
const VPC = "169.254.169.253";
const NODE = "dcl-node";
const CONTAINER = "dcl-c1";
const NAME = "app.lab.test";
const V6 = "fd00:1ab:0:0:0:0:0:3";
const QUICK = process.argv.includes("--quick");
const FAST_RUNS = QUICK ? 50 : 300;
const SLOW_RUNS = QUICK ? 1 : 3;
/** The design target: a stopped or restarting cache costs at most this much more than no cache. */
const TARGET_MS = 50;

const work = mkdtempSync(join(tmpdir(), "bridge-lab-"));
const started = [];

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
}
const inNs = (ns, cmd, args, opts) => sh("ip", ["netns", "exec", ns, cmd, ...args], opts);

function canUseNamespaces() {
  if (process.getuid?.() !== 0) return "not root";
  if (spawnSync("ip", ["-V"]).status !== 0) return "no ip command (apt-get install iproute2)";
  const probe = spawnSync("ip", ["netns", "add", "dcl-probe"], { encoding: "utf8" });
  if (probe.status !== 0) return `ip netns add failed: ${probe.stderr.trim()}`;
  spawnSync("ip", ["netns", "del", "dcl-probe"]);
  return undefined;
}

function missingTools() {
  const missing = [];
  for (const [tool, pkg] of [
    ["gcc", "gcc"],
    ["musl-gcc", "musl-tools"],
    ["dnsmasq", "dnsmasq-base"],
  ]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) missing.push(pkg);
  }
  return missing;
}

function build() {
  const source = join(HERE, "lookup.c");
  const glibc = join(work, "lookup-glibc");
  const musl = join(work, "lookup-musl");
  sh("gcc", ["-O2", "-o", glibc, source]);
  sh("musl-gcc", ["-O2", "-static", "-o", musl, source]);
  return { glibc, musl };
}

/** Node namespace: loopback, the two resolver addresses, the bridge; one container behind it. */
function topology() {
  sh("ip", ["netns", "add", NODE]);
  sh("ip", ["netns", "add", CONTAINER]);
  inNs(NODE, "ip", ["link", "set", "lo", "up"]);
  let cacheDevice = "dns-cache0";
  const dummy = spawnSync("ip", ["netns", "exec", NODE, "ip", "link", "add", cacheDevice, "type", "dummy"]);
  if (dummy.status === 0) inNs(NODE, "ip", ["link", "set", cacheDevice, "up"]);
  else cacheDevice = "lo"; // same local-delivery semantics: a local address with nothing behind it
  inNs(NODE, "ip", ["addr", "add", `${NODE_CACHE}/32`, "dev", cacheDevice]);
  inNs(NODE, "ip", ["addr", "add", `${VPC}/32`, "dev", "lo"]);
  inNs(NODE, "ip", ["link", "add", "br0", "type", "bridge"]);
  inNs(NODE, "ip", ["addr", "add", "172.31.0.1/24", "dev", "br0"]);
  inNs(NODE, "ip", ["link", "set", "br0", "up"]);
  inNs(NODE, "ip", ["link", "add", "veth-c1", "type", "veth", "peer", "name", "eth0", "netns", CONTAINER]);
  inNs(NODE, "ip", ["link", "set", "veth-c1", "master", "br0", "up"]);
  inNs(CONTAINER, "ip", ["link", "set", "lo", "up"]);
  inNs(CONTAINER, "ip", ["addr", "add", "172.31.0.2/24", "dev", "eth0"]);
  inNs(CONTAINER, "ip", ["link", "set", "eth0", "up"]);
  inNs(CONTAINER, "ip", ["route", "add", "default", "via", "172.31.0.1"]);
  return cacheDevice;
}

function dnsmasq(name, args) {
  const pidFile = join(work, `${name}.pid`);
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      NODE,
      "dnsmasq",
      "--keep-in-foreground",
      "--no-resolv",
      "--no-hosts",
      "--bind-interfaces",
      "--user=root",
      `--pid-file=${pidFile}`,
      ...args,
    ],
    { stdio: "ignore" },
  );
  started.push(child);
  return child;
}

const startVpc = () =>
  dnsmasq("vpc", [`--listen-address=${VPC}`, "--cache-size=0", `--host-record=${NAME},10.1.2.3,${V6}`]);
/** A cache replica: the lab's SO_REUSEPORT responder (CoreDNS binds the same way). */
function startReplica() {
  const child = spawn(
    "ip",
    ["netns", "exec", NODE, process.execPath, join(HERE, "responder.mjs"), NODE_CACHE, NAME, "10.1.2.3", V6],
    { stdio: "ignore" },
  );
  started.push(child);
  return child;
}
const stop = async (child) => {
  child.kill("SIGKILL");
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
};
const startCache = () =>
  dnsmasq("cache", [`--listen-address=${NODE_CACHE}`, "--cache-size=10000", `--server=${VPC}`]);

async function waitUntilAnswering(address) {
  for (let i = 0; i < 40; i++) {
    const r = spawnSync("ip", ["netns", "exec", NODE, "busybox", "nslookup", "-type=a", NAME, address], {
      encoding: "utf8",
      timeout: 2000,
    });
    if (r.status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing answers on ${address}`);
}

/** Docker's resolv.conf for a container with these dnsServers, on an ECS-optimized AL2023 host. */
function resolvConf(servers) {
  const dir = `/etc/netns/${CONTAINER}`;
  mkdirSync(dir, { recursive: true });
  const lines = [...servers.map((s) => `nameserver ${s}`), "search ec2.internal", "options edns0 trust-ad"];
  writeFileSync(join(dir, "resolv.conf"), `${lines.join("\n")}\n`);
}

function measure(client, runs) {
  const timeoutMs = 300_000;
  const out = inNs(CONTAINER, client, [NAME, String(runs)], { timeout: timeoutMs });
  const rows = out
    .trim()
    .split("\n")
    .map((l) => l.split(" ").map(Number));
  const slow = rows.flatMap(([t], i) => (t > 1000 ? [i] : []));
  const ms = rows.map(([t]) => t).sort((a, b) => a - b);
  const failures = rows.filter(([, rc]) => rc !== 0).length;
  const pick = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? Number.NaN;
  return { p50: pick(0.5), p99: pick(0.99), max: ms[ms.length - 1] ?? Number.NaN, failures, runs, slow };
}

const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2)).padStart(8);

/** Judged at p99: a fallback that is fast on average but stalls one lookup in four is not fast. */
function row(scenario, libc, m, baseline, target) {
  const extra = baseline ? m.p99 - baseline.p99 : undefined;
  const verdict =
    target === undefined || extra === undefined
      ? ""
      : extra <= target
        ? `  p99 +${Math.max(0, extra).toFixed(2)} ms over no cache: within ${target} ms`
        : `  p99 +${extra.toFixed(0)} ms over no cache: OVER ${target} ms`;
  console.log(
    `${scenario.padEnd(34)} ${libc.padEnd(6)} p50 ${fmt(m.p50)} ms  p99 ${fmt(m.p99)} ms  max ${fmt(m.max)} ms  failed ${m.failures}/${m.runs}${verdict}${m.slow.length > 0 && m.runs > 5 ? ` [over 1 s: lookups ${m.slow.join(", ")}]` : ""}`,
  );
}

async function probeExit(address) {
  const start = Date.now();
  const r = spawnSync("ip", ["netns", "exec", NODE, "busybox", "nslookup", "-type=a", NAME, address], {
    encoding: "utf8",
    timeout: 3000, // the template's HealthCheck timeout
  });
  return { status: r.status ?? "killed at 3 s", ms: Date.now() - start };
}

async function main() {
  const why = canUseNamespaces();
  if (why) {
    console.log(`bridge-lab: cannot create network namespaces here (${why}); nothing measured.`);
    return;
  }
  const missing = missingTools();
  if (missing.length > 0) {
    console.log(`bridge-lab: missing tools; install them with: apt-get install -y ${missing.join(" ")}`);
    return;
  }
  const clients = build();
  const device = topology();
  console.log(
    `bridge-lab: node cache ${NODE_CACHE} on ${device}${device === "lo" ? " (this kernel has no dummy interfaces; lo gives the same local delivery)" : " (dummy)"}, VPC resolver stand-in ${VPC}; dnsmasq stands in for CoreDNS on both`,
  );
  console.log(
    "clients: getaddrinfo(AF_UNSPEC) in a container namespace behind a bridge; glibc defaults (timeout:5 attempts:2), musl\n",
  );
  const vpc = startVpc();
  await waitUntilAnswering(VPC);
  let cache = startCache();
  await waitUntilAnswering(NODE_CACHE);

  const results = {};
  for (const [libc, client] of Object.entries(clients)) {
    resolvConf([VPC]);
    results[`none-${libc}`] = measure(client, FAST_RUNS);
    row("no cache (VPC resolver only)", libc, results[`none-${libc}`]);
  }
  resolvConf([NODE_CACHE, VPC]);
  for (const [libc, client] of Object.entries(clients)) {
    row("cache up", libc, measure(client, FAST_RUNS), results[`none-${libc}`]);
  }

  cache.kill("SIGTERM");
  await new Promise((resolve) => cache.once("exit", resolve));
  for (const [libc, client] of Object.entries(clients)) {
    // Few runs: with the kernel's ICMP limits every 4th lookup waits 5 s.
    const m = measure(client, Math.min(FAST_RUNS, 40));
    results[`stopped-${libc}`] = m;
    row("cache stopped, address kept", libc, m, results[`none-${libc}`], TARGET_MS);
  }
  const stoppedProbe = await probeExit(NODE_CACHE);
  // The kernel rate-limits ICMP port unreachable per destination (net.ipv4.icmp_ratelimit: a burst of 6,
  // then 1 per second) and overall (icmp_msgs_per_sec/burst): past them a refused query looks dropped and
  // glibc waits its whole timeout. The template's setup container relaxes both on the node.
  const sysctls = {
    icmp_ratemask: ["6168", "6160"], // without destination unreachable
    icmp_msgs_per_sec: ["1000", "20000"],
    icmp_msgs_burst: ["50", "20000"],
  };
  const setSysctls = (i) =>
    inNs(NODE, "sh", [
      "-c",
      Object.entries(sysctls)
        .map(([k, v]) => `echo ${v[i]} > /proc/sys/net/ipv4/${k}`)
        .join("; "),
    ]);
  setSysctls(1);
  for (const [libc, client] of Object.entries(clients)) {
    const m = measure(client, FAST_RUNS);
    results[`stopped-relaxed-${libc}`] = m;
    row("…with the node's ICMP limits relaxed", libc, m, results[`none-${libc}`], TARGET_MS);
  }
  setSysctls(0);

  // Two replicas sharing the address (SO_REUSEPORT): one restarting leaves the other answering every query.
  const replicas = [startReplica(), startReplica()];
  await waitUntilAnswering(NODE_CACHE);
  await new Promise((r) => setTimeout(r, 300)); // both bound
  await stop(replicas[0]);
  for (const [libc, client] of Object.entries(clients)) {
    const m = measure(client, FAST_RUNS);
    results[`replica-${libc}`] = m;
    row("one of two replicas stopped", libc, m, results[`none-${libc}`], TARGET_MS);
  }
  await stop(replicas[1]);

  // The address gone and its packets dropped silently, as the VPC drops a link-local packet it cannot
  // deliver (an instance without the daemon, or one that removed the address when it stopped).
  inNs(NODE, "ip", ["addr", "del", `${NODE_CACHE}/32`, "dev", device]);
  inNs(NODE, "ip", ["route", "add", "blackhole", `${NODE_CACHE}/32`]);
  for (const [libc, client] of Object.entries(clients)) {
    row("address absent (dropped)", libc, measure(client, SLOW_RUNS), results[`none-${libc}`], TARGET_MS);
  }
  inNs(NODE, "ip", ["route", "del", "blackhole", `${NODE_CACHE}/32`]);
  inNs(NODE, "ip", ["addr", "add", `${NODE_CACHE}/32`, "dev", device]);

  cache = startReplica();
  await waitUntilAnswering(NODE_CACHE);
  process.kill(cache.pid, "SIGSTOP"); // ip netns exec execs the command: the child's pid is the server's
  const frozenProbe = await probeExit(NODE_CACHE);
  for (const [libc, client] of Object.entries(clients)) {
    row("cache frozen (bound, silent)", libc, measure(client, SLOW_RUNS), results[`none-${libc}`]);
  }
  process.kill(cache.pid, "SIGCONT");
  const upProbe = await probeExit(NODE_CACHE);

  console.log(
    `\nhealth probe (busybox nslookup on ${NODE_CACHE}, ECS timeout 3 s): up → exit ${upProbe.status} in ${upProbe.ms} ms; stopped → exit ${stoppedProbe.status} in ${stoppedProbe.ms} ms; frozen → ${frozenProbe.status} after ${frozenProbe.ms} ms`,
  );
  const over = (key, libc, q) => (results[`${key}-${libc}`][q] - results[`none-${libc}`][q]).toFixed(2);
  console.log(
    `target: a stopped or restarting cache costs at most ${TARGET_MS} ms more per lookup than no cache\n` +
      `  address kept, kernel defaults:     glibc +${over("stopped", "glibc", "p50")} ms p50, +${over("stopped", "glibc", "p99")} ms p99; musl +${over("stopped", "musl", "p50")} ms p50, +${over("stopped", "musl", "p99")} ms p99\n` +
      `  address kept, ICMP limits relaxed: glibc +${over("stopped-relaxed", "glibc", "p50")} ms p50, +${over("stopped-relaxed", "glibc", "p99")} ms p99; musl +${over("stopped-relaxed", "musl", "p50")} ms p50, +${over("stopped-relaxed", "musl", "p99")} ms p99\n` +
      `  one of two replicas stopped:       glibc +${over("replica", "glibc", "p50")} ms p50, +${over("replica", "glibc", "p99")} ms p99; musl +${over("replica", "musl", "p50")} ms p50, +${over("replica", "musl", "p99")} ms p99`,
  );
  vpc.kill("SIGTERM");
  cache.kill("SIGTERM");
}

function cleanup() {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, "SIGCONT");
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  for (const ns of [CONTAINER, NODE]) spawnSync("ip", ["netns", "del", ns]);
  if (existsSync(`/etc/netns/${CONTAINER}`))
    rmSync(`/etc/netns/${CONTAINER}`, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

try {
  await main();
} catch (error) {
  console.error(`bridge-lab: ${error.message}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
