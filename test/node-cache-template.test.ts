/**
 * infra/node-cache.yaml: the node-local cache for bridge tasks on EC2. Checked as CloudFormation would
 * create it, and its setup script run for real (dash and busybox sh) with a stand-in `ip`.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NODE_CACHE_CONTAINERS, VPC_RESOLVER } from "#shared/engine/bridge.ts";
import { DEFAULT_OPTIONS, parseOptionValues } from "#shared/engine/options.ts";
import { requireTools } from "./helpers/shell-sandbox.ts";
import { type JsonObject, loadTemplate, resolveTemplate } from "./support/cfn-yaml.ts";

const template = loadTemplate(new URL("../infra/node-cache.yaml", import.meta.url));
const CLUSTER = { Cluster: "orders" };

function resolved(params: Record<string, string> = {}) {
  const r = resolveTemplate(template, { ...CLUSTER, ...params });
  const props = (id: string) => r.resources[id]?.Properties as JsonObject;
  const containers = props("TaskDefinition").ContainerDefinitions as JsonObject[];
  const container = (name: string) => containers.find((c) => c.Name === name) as JsonObject;
  return { r, props, containers, container };
}

function setupScript(params: Record<string, string> = {}): string {
  const command = resolved(params).container("dns-cache-node-setup").Command as string[];
  return command[0] ?? "";
}

describe("infra/node-cache.yaml", () => {
  it("is plain CloudFormation whose description says what it needs (EC2, not Fargate)", () => {
    expect(template.Transform).toBeUndefined();
    expect(String(template.Description)).toMatch(/Fargate-only cluster/);
    expect(String(template.Description)).toMatch(/1\.86\.0/);
  });

  it("runs one task per EC2 Linux instance: DAEMON, EC2 launch type, host network", () => {
    const { props } = resolved();
    expect(props("Service")).toMatchObject({
      Cluster: "orders",
      LaunchType: "EC2",
      SchedulingStrategy: "DAEMON",
      PlacementConstraints: [{ Type: "memberOf", Expression: "attribute:ecs.os-type == linux" }],
    });
    expect(props("Service")).not.toHaveProperty("DesiredCount");
    expect(props("TaskDefinition")).toMatchObject({ NetworkMode: "host", RequiresCompatibilities: ["EC2"] });
  });

  it("defaults to the engine's node cache address, and accepts what the engine accepts", () => {
    const spec = (template.Parameters as JsonObject).NodeCacheAddress as JsonObject;
    expect(spec.Default).toBe(DEFAULT_OPTIONS.nodeCacheAddress);
    const pattern = new RegExp(`^(?:${String(spec.AllowedPattern)})$`);
    const engineAccepts = (v: string) => {
      try {
        parseOptionValues({ "node-cache-address": v }, () => "test");
        return true;
      } catch {
        return false;
      }
    };
    for (let third = 0; third <= 255; third++) {
      for (const fourth of [0, 1, 10, 255]) {
        const address = `169.254.${third}.${fourth}`;
        expect(pattern.test(address), address).toBe(engineAccepts(address));
      }
    }
  });

  it.each(NODE_CACHE_CONTAINERS)(
    "runs CoreDNS replica %s, named as the health function looks for it; essential, restarted in place",
    (name) => {
      const cache = resolved().container(name);
      expect(cache).toMatchObject({
        Essential: true,
        EntryPoint: ["/coredns"],
        Command: ["-conf", "/dns-cache-node/Corefile"],
        RestartPolicy: { Enabled: true },
        DependsOn: [{ ContainerName: "dns-cache-node-setup", Condition: "SUCCESS" }],
      });
    },
  );

  it("health-checks with a DNS query on the cache's address, answered locally (no upstream involved)", () => {
    const cache = resolved({ NodeCacheAddress: "169.254.53.53" }).container("dns-cache-node-2");
    const check = cache.HealthCheck as JsonObject;
    expect(check.Command).toEqual([
      "CMD",
      "/dns-cache-node/busybox",
      "nslookup",
      "-type=a",
      "ready.dns-cache.probe",
      "169.254.53.53",
    ]);
    // ECS's limits: interval 5-300 s, retries 1-10, timeout 2-60 s.
    expect(Number(check.Interval)).toBeGreaterThanOrEqual(5);
    expect(Number(check.Retries)).toBeGreaterThanOrEqual(1);
  });

  it("gives only the short-lived setup container NET_ADMIN, and privileged mode only to relax ICMP limits", () => {
    const { containers, container } = resolved();
    const setup = container("dns-cache-node-setup");
    expect(setup.LinuxParameters).toEqual({ Capabilities: { Add: ["NET_ADMIN"] } });
    expect(setup).toMatchObject({ Essential: false, Privileged: true });
    for (const c of containers.filter((c) => c !== setup)) {
      expect(c.LinuxParameters).toBeUndefined();
      expect(c.Privileged).toBeUndefined();
    }
    expect(
      resolved({ RelaxIcmpRateLimit: "false" }).container("dns-cache-node-setup").Privileged,
    ).toBeUndefined();
    expect(container("dns-cache-node-setup").DockerSecurityOptions).toBeUndefined();
    expect(
      resolved({ Bottlerocket: "true" }).container("dns-cache-node-setup").DockerSecurityOptions,
    ).toEqual(["label:type:super_t"]);
  });

  it("lets its execution role write only its own log group", () => {
    const { r, props } = resolved();
    const [policy] = props("ExecutionRole").Policies as JsonObject[];
    const statements = (policy?.PolicyDocument as JsonObject | undefined)?.Statement;
    expect(statements).toEqual([
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: r.getAtt("LogGroup", "Arn"),
      },
    ]);
  });
});

describe("the setup script, run for real", () => {
  const tools = requireTools();
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** A stand-in `ip` that keeps its state in files: the interface and its addresses. */
  const FAKE_IP = `#!/bin/sh
state="$FAKE_IP_STATE"
echo "ip $*" >> "$state/calls"
case "$*" in
  "link show dns-cache0") [ -f "$state/link" ] ;;
  "link add dns-cache0 type dummy") [ ! -f "$state/link" ] && : > "$state/link" ;;
  "link set dns-cache0 up") [ -f "$state/link" ] ;;
  "-4 addr show dev dns-cache0") [ -f "$state/link" ] && cat "$state/addrs" 2>/dev/null; true ;;
  "addr add "*) echo "    inet $3 scope global dns-cache0 " >> "$state/addrs" ;;
  *) echo "unexpected: ip $*" >&2; exit 2 ;;
esac
`;

  /** Runs `script` with `shell` (argv before `-c`) in a sandbox; returns a runner and where it writes. */
  function sandbox(shell: string[], script: string) {
    const dir = mkdtempSync(join(tmpdir(), "node-cache-setup-"));
    dirs.push(dir);
    const [bin, volume, state] = ["bin", "volume", "state"].map((d) => join(dir, d)) as [
      string,
      string,
      string,
    ];
    for (const d of [bin, volume, state]) mkdirSync(d);
    writeFileSync(join(bin, "ip"), FAKE_IP);
    chmodSync(join(bin, "ip"), 0o755);
    // The image's paths, moved into the sandbox.
    const proc = join(dir, "proc");
    mkdirSync(proc);
    writeFileSync(join(proc, "icmp_ratemask"), "6168\n");
    const local = script
      .replaceAll("/dns-cache-node", volume)
      .replaceAll("/bin/busybox", tools.busybox)
      .replaceAll("/proc/sys/net/ipv4", proc);
    const [command = "", ...args] = shell;
    const exec = () =>
      spawnSync(command, [...args, "-c", local], {
        env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_IP_STATE: state },
        encoding: "utf8",
      });
    return { exec, bin, volume, state, proc };
  }

  it.each([
    ["dash", () => [tools.dash]],
    ["busybox sh", () => [tools.busybox, "sh"]],
  ])("with %s: creates the address once, writes the Corefile, and is idempotent", (_, shellOf) => {
    const { exec, volume, state, proc } = sandbox(
      shellOf(),
      setupScript({ NodeCacheAddress: "169.254.20.10", Upstream: "10.0.0.2 10.0.1.2" }),
    );
    const first = exec();
    expect(first.status, first.stderr).toBe(0);
    const second = exec();
    expect(second.status, second.stderr).toBe(0);
    const calls = readFileSync(join(state, "calls"), "utf8");
    expect(calls.match(/link add dns-cache0 type dummy/g)).toHaveLength(1);
    expect(calls.match(/addr add 169\.254\.20\.10\/32 dev dns-cache0/g)).toHaveLength(1);
    const corefile = readFileSync(join(volume, "Corefile"), "utf8");
    expect(corefile.match(/^\s*bind 169\.254\.20\.10$/gm)).toHaveLength(2);
    expect(corefile).toMatch(/^\s*forward \. 10\.0\.0\.2 10\.0\.1\.2 \{$/m);
    expect(corefile).toMatch(/^\s*127\.0\.0\.1 ready\.dns-cache\.probe$/m);
    expect(corefile).toMatch(/^\s*serve_stale 1h immediate$/m);
    expect(corefile).not.toContain("${");
    expect(readFileSync(join(volume, "busybox")).length).toBeGreaterThan(100_000);
    // Destination unreachable (type 3, bit 8) no longer rate-limited per peer; the overall limits raised.
    expect(readFileSync(join(proc, "icmp_ratemask"), "utf8").trim()).toBe("6160");
    expect(readFileSync(join(proc, "icmp_msgs_per_sec"), "utf8").trim()).toBe("20000");
  });

  it("forwards to the VPC resolver by default", () => {
    expect(setupScript()).toMatch(new RegExp(`forward \\. ${VPC_RESOLVER.replaceAll(".", "\\.")} \\{`));
  });

  it("fails, so CoreDNS never starts, when the interface cannot be created", () => {
    const { exec, bin, volume } = sandbox([tools.dash], setupScript());
    // A kernel without the dummy module: `ip link add` fails.
    writeFileSync(
      join(bin, "ip"),
      '#!/bin/sh\necho "RTNETLINK answers: Operation not supported" >&2\nexit 2\n',
    );
    const result = exec();
    expect(result.status).not.toBe(0);
    expect(() => readFileSync(join(volume, "Corefile"))).toThrow();
  });
});
