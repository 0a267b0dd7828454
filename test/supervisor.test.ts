/**
 * The cache container's supervisor and its DNS probe, run for real: the generated script under dash and
 * under busybox sh (applets only on PATH), a real DNS server process (scripts/lab/dns-standin.mjs) in place
 * of CoreDNS, frozen with SIGSTOP as a stuck CoreDNS would be, and the health check's own nslookup.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { inject } from "#shared/engine/inject.ts";
import { PROBE_FAILURES, probeArgs, renderSupervisor } from "#shared/engine/supervisor.ts";
import { fargateApp } from "./helpers/fixtures.ts";
import { removeBusyboxAppletDir, requireTools, SHELLS } from "./helpers/shell-sandbox.ts";

const STANDIN = join(import.meta.dirname, "..", "scripts", "lab", "dns-standin.mjs");
const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});
afterAll(() => removeBusyboxAppletDir());

async function freePort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "dns-cache-supervisor-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A stand-in for /coredns: ignores -conf FILE and execs the DNS server, so $! is the server's pid. */
function fakeCoredns(dir: string, args: string[]): string {
  const path = join(dir, "coredns");
  const quoted = [process.execPath, STANDIN, ...args].map((a) => `'${a}'`).join(" ");
  writeFileSync(path, `#!/bin/sh\nexec ${quoted}\n`);
  chmodSync(path, 0o755);
  return path;
}

function probe(port: number): { status: number | null; ms: number } {
  const started = performance.now();
  const r = spawnSync(requireTools().busybox, probeArgs(port), { encoding: "utf8", timeout: 10_000 });
  return { status: r.status, ms: performance.now() - started };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Supervised {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function supervise(shellIndex: number, env: Record<string, string>): Supervised {
  const shell = SHELLS[shellIndex];
  if (!shell) throw new Error("no shell");
  const dir = tempDir();
  const script = join(dir, "supervise");
  writeFileSync(script, renderSupervisor());
  const [command = "", ...args] = shell.argv();
  const child = spawn(command, [...args, script], {
    env: { PATH: shell.path(), DNS_CACHE_BUSYBOX: requireTools().busybox, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
    for (const pid of startedPids(stderr)) if (alive(pid)) process.kill(pid, "SIGKILL");
  });
  return { child, stderr: () => stderr, exited };
}

function startedPids(stderr: string): number[] {
  return [...stderr.matchAll(/started CoreDNS \(pid (\d+)\)/g)].map((m) => Number(m[1]));
}

/** Polls get() until it gives a value; fails at once should the supervisor (when given) exit meanwhile. */
async function until<T>(
  what: string,
  get: () => T | undefined,
  supervisor?: Supervised,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    const code = supervisor?.child.exitCode ?? supervisor?.child.signalCode ?? null;
    if (code !== null)
      throw new Error(`the supervisor exited (${code}) before ${what}: ${supervisor?.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the DNS probe (busybox nslookup, as the health check runs it)", () => {
  it("passes against a live server and fails against a frozen one, within its 2 s timeout", async () => {
    const port = await freePort();
    const server = spawn(process.execPath, [STANDIN, "--port", String(port)], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    cleanups.push(() => server.kill("SIGKILL"));
    await new Promise((resolve) => server.stdout?.once("data", resolve));
    expect(probe(port).status).toBe(0);
    server.kill("SIGSTOP");
    const frozen = probe(port);
    expect(frozen.status).toBe(1);
    expect(frozen.ms).toBeLessThan(5_000);
    server.kill("SIGCONT");
    expect(probe(port).status).toBe(0);
    server.kill("SIGKILL");
    await new Promise((resolve) => server.on("close", resolve));
    expect(probe(port).status).toBe(1); // nothing listening
  });

  it("fails when the server answers the probe name with NXDOMAIN (a Corefile without the probe zone)", async () => {
    const dir = tempDir();
    const records = join(dir, "records.json");
    writeFileSync(records, JSON.stringify({ "other.example": "10.0.0.1" }));
    const port = await freePort();
    const server = spawn(process.execPath, [STANDIN, "--port", String(port), "--records", records], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    cleanups.push(() => server.kill("SIGKILL"));
    await new Promise((resolve) => server.stdout?.once("data", resolve));
    expect(probe(port).status).toBe(1);
  });

  it("is the injected health check's command, run with the busybox copied into the volume", () => {
    const result = inject(fargateApp());
    if (result.outcome !== "injected") throw new Error("refused");
    const cache = result.definition.containerDefinitions.find((c) => c.name === "dns-cache");
    expect(cache?.healthCheck?.command).toEqual(["CMD", "/dns-cache/busybox", ...probeArgs()]);
    expect(cache?.entryPoint).toEqual(["/dns-cache/busybox", "sh", "/dns-cache/supervise"]);
  });
});

for (const [index, shell] of SHELLS.entries()) {
  describe(`the supervisor under ${shell.name}`, () => {
    it("restarts a frozen DNS server in place, then stops cleanly on SIGTERM with its exit status", async () => {
      const port = await freePort();
      const dir = tempDir();
      const s = supervise(index, {
        DNS_CACHE_COREDNS: fakeCoredns(dir, ["--port", String(port)]),
        DNS_CACHE_COREFILE: join(dir, "Corefile"),
        DNS_CACHE_PROBE_PORT: String(port),
        DNS_CACHE_PROBE_INTERVAL: "1",
      });
      const first = await until("the first start", () => startedPids(s.stderr())[0], s);
      await until("a first answer", () => (probe(port).status === 0 ? true : undefined), s);
      process.kill(first, "SIGSTOP");
      const second = await until("a restart", () => startedPids(s.stderr())[1], s);
      expect(second).not.toBe(first);
      expect(alive(first)).toBe(false); // killed and reaped, not left frozen
      expect(s.stderr()).toContain(`for ${PROBE_FAILURES} checks in a row; restarting it`);
      await until("answers again", () => (probe(port).status === 0 ? true : undefined), s);
      expect(startedPids(s.stderr())).toHaveLength(2);

      s.child.kill("SIGTERM");
      expect(await s.exited).toBe(0); // the server's own status on SIGTERM
      expect(alive(second)).toBe(false);
      expect(s.stderr()).toContain("stopped (CoreDNS exit status 0)");
    }, 60_000);

    it("keeps a healthy server running and does not restart it", async () => {
      const port = await freePort();
      const dir = tempDir();
      const s = supervise(index, {
        DNS_CACHE_COREDNS: fakeCoredns(dir, ["--port", String(port)]),
        DNS_CACHE_PROBE_PORT: String(port),
        DNS_CACHE_PROBE_INTERVAL: "1",
      });
      await until("the first start", () => startedPids(s.stderr())[0], s);
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      expect(startedPids(s.stderr())).toHaveLength(1);
      s.child.kill("SIGTERM");
      expect(await s.exited).toBe(0);
    }, 30_000);

    it("starts a server that exits on its own again, with a growing backoff, and never exits itself", async () => {
      const dir = tempDir();
      const s = supervise(index, {
        DNS_CACHE_COREDNS: fakeCoredns(dir, ["--exit-code", "3"]),
        DNS_CACHE_PROBE_INTERVAL: "1",
      });
      await until("two restarts", () => (/starting it again in 2s/.test(s.stderr()) ? true : undefined), s);
      expect(s.stderr()).toContain("CoreDNS exited with status 3; starting it again in 1s");
      expect(s.child.exitCode).toBeNull();
      const stopped = performance.now();
      s.child.kill("SIGTERM");
      await s.exited;
      expect(performance.now() - stopped).toBeLessThan(3_000); // the backoff sleep is interrupted
    }, 30_000);
  });
}
