/**
 * Executes the generated init script for real, with dash and with busybox sh (busybox applets only on
 * PATH, as in the busybox image), on temporary files. Runs as root, like CI: read-only cases use a
 * read-only bind mount in a private mount namespace (unshare) or an unprivileged user (setpriv).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { renderCorefile } from "#shared/engine/corefile.ts";
import {
  type InitScriptConfig,
  ORIGINAL_PREFIX,
  renderInitScript,
  VPC_RESOLVER,
} from "#shared/engine/init-script.ts";
import { renderSupervisor } from "#shared/engine/supervisor.ts";
import {
  busyboxAppletDir,
  NOBODY,
  type RunResult,
  removeBusyboxAppletDir,
  requireTools,
  Sandbox,
  SHELLS,
  type Shell,
} from "./helpers/shell-sandbox.ts";

const HEADER = "# Managed by dns-cache: queries go to the per-task DNS cache on 127.0.0.1 first.";

// Timeout and attempts differ from any value the inputs below use, so replacement is visible.
const BASE: InitScriptConfig = {
  cacheSuccessCapacity: 9984,
  cacheSuccessTtl: 300,
  cacheDenialCapacity: 9984,
  cacheDenialTtl: 5,
  prefetch: true,
  serveStale: "1h immediate",
  healthPort: 8086,
  metricsPort: null,
  upstreams: [],
  fallback: true,
  resolverTimeout: 1,
  resolverAttempts: 3,
};

function script(overrides: Partial<InitScriptConfig> = {}): string {
  return renderInitScript({ ...BASE, ...overrides });
}

const OUR_OPTIONS = ["timeout:1", "attempts:3"];

const sandboxes: Sandbox[] = [];

function sandbox(resolvConf?: string): Sandbox {
  const sb = new Sandbox();
  sandboxes.push(sb);
  if (resolvConf !== undefined) sb.writeResolvConf(resolvConf);
  return sb;
}

afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.dispose();
});

afterAll(() => {
  removeBusyboxAppletDir();
});

/** Lines a resolver acts on: not blank, not a comment. */
function activeLines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "" && !/^\s*[#;]/.test(line));
}

function nameservers(text: string): string[] {
  return activeLines(text).flatMap((line) => {
    const m = /^nameserver\s+(\S+)/.exec(line);
    return m?.[1] ? [m[1]] : [];
  });
}

/** The original file as kept in the comments. */
function keptOriginal(text: string): string {
  return text
    .split("\n")
    .filter((line) => line.startsWith(ORIGINAL_PREFIX))
    .map((line) => line.slice(ORIGINAL_PREFIX.length))
    .join("\n");
}

/** What the script can know of a file: no CRs, no trailing newlines (shell command substitution). */
function normalisedOriginal(input: string): string {
  return input.replaceAll("\r", "").replace(/\n+$/, "");
}

function forwardTargets(corefile: string): string[] {
  const lines = corefile.split("\n").filter((line) => /^\s*forward\s/.test(line));
  expect(lines).toHaveLength(1);
  const m = /^ {2}forward \. (\S+(?: \S+)*) \{$/.exec(lines[0] ?? "");
  expect(m, `forward line: ${JSON.stringify(lines[0])}`).not.toBeNull();
  return (m?.[1] ?? "").split(" ");
}

function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

/** A nameserver the script keeps: not the cache's own loopback, not the unspecified address. */
function usable(ip: string): boolean {
  return !isLoopback(ip) && ip !== "0.0.0.0" && ip !== "::";
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Exit 0 and nothing on stderr that looks like a shell, applet or write error. */
function expectSuccess(r: RunResult): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).not.toMatch(
    /WARNING|not found|syntax error|unexpected|can't|cannot|denied|read-only|applet/i,
  );
}

/** The task must stay startable: exit 0, a warning, resolv.conf exactly as it was. */
function expectWarnedAndUntouched(r: RunResult, sb: Sandbox, before: string, warning: RegExp): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/dns-cache-init: WARNING/);
  expect(r.stderr).toMatch(warning);
  expect(sb.readResolvConf()).toBe(before);
}

interface Expectation {
  /** Original nameservers written after 127.0.0.1 when fallback is on. */
  fallbacks: string[];
  /** Lines other than nameserver and options, verbatim and in order. */
  kept: string[];
  /** Original options other than timeout and attempts, in order. */
  options: string[];
  /** The Corefile forward list. */
  forward: string[];
}

/** The whole active part of the rewritten file, the original in the comments, the Corefile's upstreams. */
function expectRewritten(sb: Sandbox, input: string, want: Expectation, fallback = true): void {
  const out = sb.readResolvConf();
  expect(out.split("\n")[0]).toBe(HEADER);
  expect(out.endsWith("\n")).toBe(true);
  expect(out).not.toContain("\r");
  expect(activeLines(out)).toEqual([
    "nameserver 127.0.0.1",
    ...(fallback ? want.fallbacks.map((ns) => `nameserver ${ns}`) : []),
    ...want.kept,
    ["options", ...want.options, ...OUR_OPTIONS].join(" "),
  ]);
  expect(keptOriginal(out)).toBe(normalisedOriginal(input));
  const corefile = sb.readCorefile();
  expect(corefile).not.toContain("\r");
  expect(forwardTargets(corefile)).toEqual(want.forward);
  for (const upstream of want.forward) expect(isLoopback(upstream)).toBe(false);
}

describe("prerequisites (fail, never skip: CI installs busybox)", () => {
  it("has dash, busybox, unshare, mount and setpriv", () => {
    const tools = requireTools();
    expect(tools.dash).toMatch(/dash$/);
    expect(tools.busybox).toMatch(/busybox$/);
  });

  it("resolves every command the script runs to a busybox applet on the busybox PATH", () => {
    const dir = busyboxAppletDir();
    const commands = ["grep", "sed", "cat", "tr", "cmp", "mkdir", "chmod", "mv", "cp", "rm"];
    const text = script();
    for (const command of commands) expect(text).toMatch(new RegExp(`(^|[\\s(|&!{])${command} `, "m"));
    const sb = sandbox();
    const probe = `for c in ${commands.join(" ")}; do command -v "$c" || echo "missing $c"; done`;
    const r = sb.run(SHELLS[1] as Shell, probe);
    expect(r.status, r.stderr).toBe(0);
    // Debian's busybox finds applets on PATH; busybox-static's shell runs its own applets first and
    // `command -v` then prints the bare name. Either way the command is busybox's, never the host's.
    const applets = new Set(
      spawnSync(requireTools().busybox, ["--list"], { encoding: "utf8" }).stdout.split("\n"),
    );
    const found = r.stdout.trim().split("\n");
    expect(found).toHaveLength(commands.length);
    commands.forEach((c, i) => {
      expect([join(dir, c), c]).toContain(found[i]);
      expect(applets.has(c)).toBe(true);
    });
  });

  it("can make a read-only bind mount in a private mount namespace (runs as root, like CI)", () => {
    const sb = sandbox("nameserver 10.0.0.2\n");
    const r = sb.run(
      SHELLS[0] as Shell,
      `if ( : >> "$DNS_CACHE_RESOLV_CONF" ) 2>/dev/null; then exit 1; fi`,
      {
        readOnly: [sb.resolvConf],
      },
    );
    expect(r.status, `a read-only bind mount needs root and unshare -m: ${r.stderr}`).toBe(0);
  });
});

describe.each(SHELLS)("init script under $name", (shell) => {
  it("passes sh -n", () => {
    for (const config of [
      {},
      { fallback: false, installProbe: false },
      { upstreams: ["10.9.0.2", "fd00::53"] },
    ]) {
      const r = sandbox().syntaxCheck(shell, script(config));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe("");
    }
  });

  describe("a glibc-style resolv.conf", () => {
    const input =
      "search us-east-1.compute.internal ec2.internal\nnameserver 10.0.0.2\noptions ndots:5 timeout:5\n";

    it("puts 127.0.0.1 first, keeps the original nameserver, search and ndots, sets timeout and attempts once", () => {
      const sb = sandbox(input);
      const r = sb.run(shell, script());
      expectSuccess(r);
      expect(r.stderr).toContain("resolv.conf now points at the cache (upstreams: 10.0.0.2; fallback: on)");
      expect(sb.readResolvConf()).toBe(
        [
          HEADER,
          "nameserver 127.0.0.1",
          "nameserver 10.0.0.2",
          "search us-east-1.compute.internal ec2.internal",
          "options ndots:5 timeout:1 attempts:3",
          "#dns-cache-orig: search us-east-1.compute.internal ec2.internal",
          "#dns-cache-orig: nameserver 10.0.0.2",
          "#dns-cache-orig: options ndots:5 timeout:5",
          "",
        ].join("\n"),
      );
      expect(sb.readCorefile()).toBe(renderCorefile(BASE, "10.0.0.2"));
    });

    it("writes only 127.0.0.1 when fallback is off, and still forwards to the original nameserver", () => {
      const sb = sandbox(input);
      expectSuccess(sb.run(shell, script({ fallback: false })));
      expect(nameservers(sb.readResolvConf())).toEqual(["127.0.0.1"]);
      expectRewritten(
        sb,
        input,
        {
          fallbacks: ["10.0.0.2"],
          kept: ["search us-east-1.compute.internal ec2.internal"],
          options: ["ndots:5"],
          forward: ["10.0.0.2"],
        },
        false,
      );
    });

    it("forwards to fixed upstreams but keeps the original nameservers as fallbacks", () => {
      const sb = sandbox(input);
      const config = { upstreams: ["10.9.0.2", "fd00::53"] };
      expectSuccess(sb.run(shell, script(config)));
      expect(nameservers(sb.readResolvConf())).toEqual(["127.0.0.1", "10.0.0.2"]);
      expect(sb.readCorefile()).toBe(renderCorefile(BASE, "10.9.0.2 fd00::53"));
    });
  });

  describe("the volume", () => {
    it("holds the Corefile (0644) and the probe (a copy of busybox, 0755) in a 0755 directory, even under umask 077", () => {
      const sb = sandbox("nameserver 10.0.0.2\nnameserver 10.1.0.2\n");
      expectSuccess(sb.run(shell, script(), { umask: "077" }));
      expect(readdirSync(sb.volume).sort()).toEqual(["Corefile", "busybox", "supervise"]);
      expect(mode(sb.volume)).toBe(0o755);
      expect(mode(sb.corefile)).toBe(0o644);
      expect(mode(sb.probe)).toBe(0o755);
      expect(readFileSync(sb.probe).equals(readFileSync(requireTools().busybox))).toBe(true);
      const corefile = sb.readCorefile();
      expect(corefile).toBe(renderCorefile(BASE, "10.0.0.2 10.1.0.2"));
      expect(corefile).toContain("  forward . 10.0.0.2 10.1.0.2 {\n");
      expect(corefile).toContain("  health 127.0.0.1:8086\n");
      expect(corefile).toContain("  bind 127.0.0.1\n");
    });

    it("renders the ports it is given: no health, a metrics endpoint", () => {
      const sb = sandbox("nameserver 10.0.0.2\n");
      const config = { healthPort: null, metricsPort: 9253, prefetch: false, serveStale: null };
      expectSuccess(sb.run(shell, script(config)));
      const corefile = sb.readCorefile();
      expect(corefile).toBe(renderCorefile({ ...BASE, ...config }, "10.0.0.2"));
      expect(corefile).not.toMatch(/health|prefetch|serve_stale/);
      expect(corefile).toContain("  prometheus 127.0.0.1:9253\n");
    });

    it("writes the supervisor (0644) that the cache container runs, byte for byte", () => {
      const sb = sandbox("nameserver 10.0.0.2\n");
      expectSuccess(sb.run(shell, script()));
      const supervisor = join(sb.volume, "supervise");
      expect(readFileSync(supervisor, "utf8")).toBe(renderSupervisor());
      expect(mode(supervisor)).toBe(0o644);
    });

    it("creates a missing volume directory, parents included", () => {
      const sb = sandbox("nameserver 10.0.0.2\n");
      expectSuccess(sb.run(shell, script()));
      expect(statSync(sb.volume).isDirectory()).toBe(true);
    });
  });

  describe("running again", () => {
    const input =
      "# from DHCP\nsearch ec2.internal\nnameserver 10.0.0.2\nnameserver 10.1.0.2\noptions ndots:5 timeout:5\n";

    it("changes nothing: resolv.conf (not even rewritten) and Corefile stay byte-identical", () => {
      const sb = sandbox(input);
      expectSuccess(sb.run(shell, script()));
      const first = {
        resolv: sb.readResolvConf(),
        corefile: sb.readCorefile(),
        stat: statSync(sb.resolvConf),
      };
      const second = sb.run(shell, script());
      expectSuccess(second);
      expect(second.stderr).toContain("resolv.conf already points at the cache");
      expect(sb.readResolvConf()).toBe(first.resolv);
      expect(sb.readCorefile()).toBe(first.corefile);
      expect(statSync(sb.resolvConf).mtimeMs).toBe(first.stat.mtimeMs);
      expect(readdirSync(sb.volume).sort()).toEqual(["Corefile", "busybox", "supervise"]);
    });

    it("rebuilds from the original when the options change (fallback on, off, on; other timeout; fixed upstreams)", () => {
      const sb = sandbox(input);
      expectSuccess(sb.run(shell, script()));
      const on = { resolv: sb.readResolvConf(), corefile: sb.readCorefile() };

      expectSuccess(sb.run(shell, script({ fallback: false })));
      expect(nameservers(sb.readResolvConf())).toEqual(["127.0.0.1"]);
      expect(keptOriginal(sb.readResolvConf())).toBe(normalisedOriginal(input));

      expectSuccess(
        sb.run(shell, script({ resolverTimeout: 4, resolverAttempts: 1, upstreams: ["10.9.0.2"] })),
      );
      const changed = sb.readResolvConf();
      expect(nameservers(changed)).toEqual(["127.0.0.1", "10.0.0.2", "10.1.0.2"]);
      expect(activeLines(changed).filter((l) => l.startsWith("options"))).toEqual([
        "options ndots:5 timeout:4 attempts:1",
      ]);
      expect(forwardTargets(sb.readCorefile())).toEqual(["10.9.0.2"]);

      expectSuccess(sb.run(shell, script()));
      expect(sb.readResolvConf()).toBe(on.resolv);
      expect(sb.readCorefile()).toBe(on.corefile);
    });
  });

  describe("rewriting in place", () => {
    it("keeps the inode (never renames over resolv.conf)", () => {
      const sb = sandbox("nameserver 10.0.0.2\n");
      const inode = statSync(sb.resolvConf).ino;
      expectSuccess(sb.run(shell, script()));
      expect(nameservers(sb.readResolvConf())).toEqual(["127.0.0.1", "10.0.0.2"]);
      expect(statSync(sb.resolvConf).ino).toBe(inode);
    });

    it("rewrites a bind-mounted resolv.conf, as ECS gives each container", () => {
      const sb = sandbox("nameserver 10.0.0.2\nsearch ec2.internal\n");
      const r = sb.run(shell, script(), { bindMounted: [sb.resolvConf] });
      expectSuccess(r);
      expect(r.stderr).toContain("resolv.conf now points at the cache");
      expect(nameservers(sb.readResolvConf())).toEqual(["127.0.0.1", "10.0.0.2"]);
    });
  });

  describe("edge cases", () => {
    const VPC = [VPC_RESOLVER];
    const cases: { name: string; input: string; want: Expectation; vpc?: boolean }[] = [
      {
        name: "an empty file",
        input: "",
        want: { fallbacks: VPC, kept: [], options: [], forward: VPC },
        vpc: true,
      },
      {
        name: "only blank and whitespace lines",
        input: "\n \n\t\n  \t \n\n",
        want: { fallbacks: VPC, kept: [], options: [], forward: VPC },
        vpc: true,
      },
      {
        name: "no nameserver",
        input: "search ec2.internal\noptions ndots:2\n",
        want: { fallbacks: VPC, kept: ["search ec2.internal"], options: ["ndots:2"], forward: VPC },
        vpc: true,
      },
      {
        name: "several nameservers, in order: two fallbacks (glibc reads three lines), all forwarded",
        input: "nameserver 10.0.0.2\nnameserver 172.16.0.23\nnameserver 10.1.0.2\n",
        want: {
          fallbacks: ["10.0.0.2", "172.16.0.23"],
          kept: [],
          options: [],
          forward: ["10.0.0.2", "172.16.0.23", "10.1.0.2"],
        },
      },
      {
        name: "IPv6 nameservers",
        input: "nameserver fd00:ec2::253\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\n",
        want: {
          fallbacks: ["fd00:ec2::253", "10.0.0.2"],
          kept: [],
          options: [],
          // forward reads % as a TLS server name separator: a zone id stays a fallback only.
          forward: ["fd00:ec2::253", "10.0.0.2"],
        },
      },
      {
        name: "more than three nameservers: still at most three lines, the cache first",
        input:
          "nameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\nnameserver 10.0.0.5\nnameserver 10.0.0.2\n",
        want: {
          fallbacks: ["10.0.0.2", "10.0.0.3"],
          kept: [],
          options: [],
          forward: ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"],
        },
      },
      {
        name: "only a zone-scoped nameserver: a fallback, and the cache forwards to the VPC resolver",
        input: "nameserver fe80::1%eth0\n",
        want: { fallbacks: ["fe80::1%eth0"], kept: [], options: [], forward: [VPC_RESOLVER] },
        vpc: true,
      },
      {
        name: "a domain line",
        input: "domain ec2.internal\nnameserver 10.0.0.2\n",
        want: { fallbacks: ["10.0.0.2"], kept: ["domain ec2.internal"], options: [], forward: ["10.0.0.2"] },
      },
      {
        name: "# and ; comments, also commented-out nameservers",
        input:
          "# generated by dhclient\n; old style\n#nameserver 10.9.9.9\n;nameserver 10.9.9.8\n# nameserver 10.9.9.7\nnameserver 10.0.0.2 # VPC\nsearch a.internal\n",
        want: { fallbacks: ["10.0.0.2"], kept: ["search a.internal"], options: [], forward: ["10.0.0.2"] },
      },
      {
        name: "CRLF line endings (CRs are dropped)",
        input: "search ec2.internal\r\nnameserver 10.0.0.2\r\noptions ndots:5 timeout:5\r\n",
        want: {
          fallbacks: ["10.0.0.2"],
          kept: ["search ec2.internal"],
          options: ["ndots:5"],
          forward: ["10.0.0.2"],
        },
      },
      {
        name: "tabs between fields and trailing spaces",
        input: "search\tec2.internal  \nnameserver\t\t10.0.0.2 \t\noptions\tndots:3\t timeout:5 \n",
        want: {
          fallbacks: ["10.0.0.2"],
          kept: ["search\tec2.internal  "],
          options: ["ndots:3"],
          forward: ["10.0.0.2"],
        },
      },
      {
        name: "whitespace-only lines between lines, blank lines around",
        input: "\n\nnameserver 10.0.0.2\n   \n\t\nsearch ec2.internal\n\n\n",
        want: { fallbacks: ["10.0.0.2"], kept: ["search ec2.internal"], options: [], forward: ["10.0.0.2"] },
      },
      {
        name: "no newline at the end",
        input: "nameserver 10.0.0.2\nsearch ec2.internal",
        want: { fallbacks: ["10.0.0.2"], kept: ["search ec2.internal"], options: [], forward: ["10.0.0.2"] },
      },
      {
        name: "nameserver 127.0.0.1 (and other loopbacks) already there: never an upstream, never twice",
        input: "nameserver 127.0.0.1\nnameserver 10.0.0.2\nnameserver ::1\nnameserver 127.0.0.53\n",
        want: { fallbacks: ["10.0.0.2"], kept: [], options: [], forward: ["10.0.0.2"] },
      },
      {
        name: "the same nameserver twice or more: once, where it first appears",
        input:
          "nameserver fe80::1%eth0\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nnameserver 10.0.0.2\nnameserver 0.0.0.0\n",
        want: {
          fallbacks: ["fe80::1%eth0", "10.0.0.2"],
          kept: [],
          options: [],
          // A scoped (%zone) address stays a resolv.conf fallback; CoreDNS cannot forward to it.
          forward: ["10.0.0.2"],
        },
      },
      {
        name: "only a loopback stub resolver (systemd-resolved style)",
        input: "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n",
        want: { fallbacks: VPC, kept: ["search ."], options: ["edns0", "trust-ad"], forward: VPC },
        vpc: true,
      },
      {
        name: "several options lines, timeout, attempts and rotate anywhere",
        input:
          "options timeout:5\noptions attempts:4 rotate\nnameserver 10.0.0.2\noptions ndots:2 timeout:30\n",
        want: { fallbacks: ["10.0.0.2"], kept: [], options: ["ndots:2"], forward: ["10.0.0.2"] },
      },
      {
        name: "a nameserver keyword without an address, an unknown keyword",
        input: "nameserver\nnameserver 10.0.0.2\nsortlist 130.155.160.0/255.255.240.0\n",
        want: {
          fallbacks: ["10.0.0.2"],
          kept: ["sortlist 130.155.160.0/255.255.240.0"],
          options: [],
          forward: ["10.0.0.2"],
        },
      },
      {
        name: "Docker's generated file",
        input:
          "# Generated by Docker Engine.\n# This file can be edited; Docker Engine will not make further changes once it\n# has been modified.\n\nnameserver 10.0.0.2\nsearch us-west-2.compute.internal\n\n# Based on host file: '/etc/resolv.conf' (legacy)\n# Overrides: []\n",
        want: {
          fallbacks: ["10.0.0.2"],
          kept: ["search us-west-2.compute.internal"],
          options: [],
          forward: ["10.0.0.2"],
        },
      },
    ];

    it.each(cases)("$name", ({ input, want, vpc }) => {
      const sb = sandbox(input);
      const r = sb.run(shell, script());
      expectSuccess(r);
      if (vpc) expect(r.stderr).toContain(`forwarding to the VPC resolver ${VPC_RESOLVER}`);
      else expect(r.stderr).not.toContain("VPC resolver");
      expectRewritten(sb, input, want);
      const first = sb.readResolvConf();
      expectSuccess(sb.run(shell, script()));
      expect(sb.readResolvConf()).toBe(first);
    });

    it("treats shell metacharacters in the file as text", () => {
      const input =
        '# $(touch "$DNS_CACHE_DIR/pwned") `touch "$DNS_CACHE_DIR/pwned2"` $HOME \\n %s \\ \' "\nsearch ec2.internal *\nnameserver 10.0.0.2\n';
      const sb = sandbox(input);
      expectSuccess(sb.run(shell, script()));
      expectRewritten(sb, input, {
        fallbacks: ["10.0.0.2"],
        kept: ["search ec2.internal *"],
        options: [],
        forward: ["10.0.0.2"],
      });
      expect(readdirSync(sb.volume).sort()).toEqual(["Corefile", "busybox", "supervise"]);
    });
  });

  describe("when something cannot be written or read, the task still starts", () => {
    const input = "search ec2.internal\nnameserver 10.0.0.2\noptions ndots:5\n";

    it("read-only resolv.conf (a read-only bind mount, as root): exit 0, warning, file unchanged", () => {
      const sb = sandbox(input);
      const r = sb.run(shell, script(), { readOnly: [sb.resolvConf] });
      expectWarnedAndUntouched(r, sb, input, /is not writable; the task runs without the DNS cache/);
      // The cache itself still gets its Corefile and probe, so it starts and turns healthy.
      expect(sb.readCorefile()).toBe(renderCorefile(BASE, "10.0.0.2"));
      expect(readdirSync(sb.volume).sort()).toEqual(["Corefile", "busybox", "supervise"]);
    });

    it("resolv.conf not writable by an unprivileged user (0444, uid 65534): exit 0, warning, file unchanged", () => {
      const sb = sandbox(input);
      sb.chmodResolvConf(0o444);
      sb.createVolumeOwnedBy(NOBODY);
      const r = sb.run(shell, script(), { asNobody: true });
      expectWarnedAndUntouched(r, sb, input, /is not writable; the task runs without the DNS cache/);
      expect(forwardTargets(sb.readCorefile())).toEqual(["10.0.0.2"]);
    });

    it("an already rewritten, read-only resolv.conf: exit 0 without a warning", () => {
      const sb = sandbox(input);
      expectSuccess(sb.run(shell, script()));
      const rewritten = sb.readResolvConf();
      const r = sb.run(shell, script(), { readOnly: [sb.resolvConf] });
      expectSuccess(r);
      expect(r.stderr).toContain("resolv.conf already points at the cache");
      expect(sb.readResolvConf()).toBe(rewritten);
    });

    it("missing resolv.conf: exit 0, warning, not created; the cache still gets a Corefile", () => {
      const sb = sandbox();
      const r = sb.run(shell, script());
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/dns-cache-init: WARNING: cannot read .*resolv\.conf/);
      expect(() => statSync(sb.resolvConf)).toThrow(/ENOENT/);
      expect(forwardTargets(sb.readCorefile())).toEqual([VPC_RESOLVER]);
      const fixed = sb.run(shell, script({ upstreams: ["10.9.0.2"] }));
      expect(fixed.status, fixed.stderr).toBe(0);
      expect(() => statSync(sb.resolvConf)).toThrow(/ENOENT/);
      expect(forwardTargets(sb.readCorefile())).toEqual(["10.9.0.2"]);
    });

    it("resolv.conf unreadable by an unprivileged user (0000): exit 0, warning, file unchanged", () => {
      const sb = sandbox(input);
      sb.chmodResolvConf(0o000);
      sb.createVolumeOwnedBy(NOBODY);
      const r = sb.run(shell, script(), { asNobody: true });
      expectWarnedAndUntouched(r, sb, input, /cannot read/);
    });

    it("volume directory cannot be created (its parent is a file): exit 0, warning, resolv.conf unchanged", () => {
      const sb = sandbox(input);
      writeFileSync(sb.volume, "not a directory");
      const r = sb.run(shell, script(), { volumeDir: join(sb.volume, "sub") });
      expectWarnedAndUntouched(r, sb, input, /cannot create/);
    });

    it("read-only volume directory (a read-only bind mount): exit 0, warning, resolv.conf unchanged", () => {
      const sb = sandbox(input);
      sb.createVolumeOwnedBy(0);
      const r = sb.run(shell, script(), { readOnly: [sb.volume] });
      expectWarnedAndUntouched(r, sb, input, /cannot (create|write) /);
      expect(readdirSync(sb.volume)).toEqual([]);
    });

    it("Corefile cannot be written (a directory in the way): exit 0, warning, resolv.conf unchanged", () => {
      const sb = sandbox(input);
      mkdirSync(join(sb.volume, "Corefile.new"), { recursive: true });
      const r = sb.run(shell, script());
      expectWarnedAndUntouched(r, sb, input, /cannot write .*Corefile/);
    });

    it("new resolv.conf cannot be prepared (a directory in the way): exit 0, warning, resolv.conf unchanged", () => {
      const sb = sandbox(input);
      mkdirSync(join(sb.volume, "resolv.conf.new"), { recursive: true });
      const r = sb.run(shell, script());
      expectWarnedAndUntouched(r, sb, input, /cannot prepare the new resolv\.conf/);
    });

    it("health probe cannot be copied: exit 0, warning, resolv.conf unchanged", () => {
      const sb = sandbox(input);
      const r = sb.run(shell, script(), { probeSource: join(sb.root, "no-such-busybox") });
      expectWarnedAndUntouched(r, sb, input, /cannot install busybox for the supervisor and the probe/);
      expect(readdirSync(sb.volume)).not.toContain("busybox");
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// Property: random resolv.conf files made of plausible lines.

interface Line {
  text: string;
  nameserver?: string;
  kept?: boolean;
  options?: string[];
}

const separator = fc.constantFrom(" ", "\t", "  ", " \t ");
const trailing = fc.constantFrom("", "", " ", "\t", " \t");
const address = fc.oneof(
  { weight: 4, arbitrary: fc.ipV4().filter((ip) => !ip.startsWith("127.")) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("fd00:ec2::253", "2600:1f18:1234:5600::2", "2001:db8::53", "fe80::1%eth0"),
  },
  { weight: 1, arbitrary: fc.constantFrom("127.0.0.1", "127.0.0.53", "127.0.0.11", "::1", "0.0.0.0", "::") },
  // The VPC resolver's usual address, so files often name a nameserver twice.
  { weight: 1, arbitrary: fc.constant("10.0.0.2") },
);
const optionToken = fc.constantFrom(
  "ndots:5",
  "ndots:1",
  "timeout:5",
  "timeout:30",
  "attempts:5",
  "attempts:1",
  "rotate",
  "edns0",
  "single-request-reopen",
  "trust-ad",
  "use-vc",
);

const line: fc.Arbitrary<Line> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(separator, address, trailing)
      .map(([s, ip, t]) => ({ text: `nameserver${s}${ip}${t}`, nameserver: ip })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom("search", "domain"),
        separator,
        fc.array(fc.domain(), { minLength: 1, maxLength: 4 }),
        trailing,
      )
      .map(([k, s, domains, t]) => ({ text: `${k}${s}${domains.join(" ")}${t}`, kept: true })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(separator, fc.array(optionToken, { maxLength: 4 }), separator, trailing)
      .map(([s, options, s2, t]) => ({ text: `options${s}${options.join(s2)}${t}`, options })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom("#", ";", "# ", "; ", "#nameserver ", "; nameserver "),
        fc.string({ maxLength: 40 }),
      )
      .map(([c, rest]) => ({ text: `${c}${rest}` }))
      .filter((l) => !l.text.startsWith(ORIGINAL_PREFIX)),
  },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\t", " \t ").map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.constant({ text: "sortlist 130.155.160.0/255.255.240.0", kept: true }) },
);

const resolvFile = fc
  .record({ lines: fc.array(line, { maxLength: 12 }), crlf: fc.boolean(), finalNewline: fc.boolean() })
  .map(({ lines, crlf, finalNewline }) => {
    const eol = crlf ? "\r\n" : "\n";
    const text = lines.map((l) => l.text).join(eol) + (finalNewline && lines.length > 0 ? eol : "");
    return { lines, text };
  });

/** Four script runs per case; DNS_CACHE_PROPERTY_RUNS raises it for a soak. */
const PROPERTY_RUNS = Number(process.env.DNS_CACHE_PROPERTY_RUNS ?? 60);

const configChoice = fc.record({
  fallback: fc.boolean(),
  upstreams: fc.constantFrom<string[]>([], [], ["10.9.0.2"], ["10.9.0.2", "fd00::53"]),
});

// Both shells at once (each property runs its sandboxes one after the other): half the wall time.
describe("property: any plausible resolv.conf", () => {
  for (const shell of SHELLS) {
    it.concurrent(`under ${shell.name}: exit 0, 127.0.0.1 first, originals as fallbacks, original kept, idempotent, rebuilt after other options`, async () => {
      await fc.assert(
        fc.asyncProperty(resolvFile, configChoice, async ({ lines, text }, choice) => {
          const sb = new Sandbox();
          try {
            sb.writeResolvConf(text);
            const config = { ...choice };
            expectSuccess(await sb.runAsync(shell, script(config)));

            const originals = [
              ...new Set(lines.flatMap((l) => (l.nameserver && usable(l.nameserver) ? [l.nameserver] : []))),
            ];
            const forwardable = originals.filter((ip) => !ip.includes("%"));
            const want: Expectation = {
              // At most three nameserver lines: the cache and two fallbacks.
              fallbacks: (originals.length > 0 ? originals : [VPC_RESOLVER]).slice(0, 2),
              kept: lines.filter((l) => l.kept).map((l) => l.text),
              options: lines
                .flatMap((l) => l.options ?? [])
                .filter((o) => !/^(timeout|attempts):|^rotate$/.test(o)),
              forward:
                choice.upstreams.length > 0
                  ? choice.upstreams
                  : forwardable.length > 0
                    ? forwardable
                    : [VPC_RESOLVER],
            };
            expectRewritten(sb, text, want, choice.fallback);
            const out = sb.readResolvConf();
            expect(nameservers(out)[0]).toBe("127.0.0.1");
            const corefile = sb.readCorefile();

            // Second run: byte-identical.
            expectSuccess(await sb.runAsync(shell, script(config)));
            expect(sb.readResolvConf()).toBe(out);
            expect(sb.readCorefile()).toBe(corefile);

            // Other options, then the first ones again: rebuilt from the original.
            expectSuccess(
              await sb.runAsync(shell, script({ ...config, fallback: !config.fallback, resolverTimeout: 7 })),
            );
            expect(keptOriginal(sb.readResolvConf())).toBe(normalisedOriginal(text));
            expectSuccess(await sb.runAsync(shell, script(config)));
            expect(sb.readResolvConf()).toBe(out);
            expect(sb.readCorefile()).toBe(corefile);
          } finally {
            sb.dispose();
          }
        }),
        // A new seed on every run, so an oracle that agrees with a bug on one sample cannot hide behind it;
        // fast-check prints the seed and path of a failure, to reproduce it.
        { numRuns: PROPERTY_RUNS },
      );
    }, 240_000);
  }
});
