import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type CliIo, EXIT, runCli } from "#shared/cli/cli.ts";
import { serialize } from "#shared/engine/inject.ts";
import { DEFAULT_OPTIONS, OPTION_SPECS } from "#shared/engine/options.ts";
import { fargateApp } from "./helpers/fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "dns-cache-cli-"));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function run(argv: string[], stdin = "", stdinIsTerminal = false) {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    readStdin: async () => stdin,
    stdinIsTerminal,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const example = file("app.json", JSON.stringify(fargateApp()));

describe("dns-cache inject", () => {
  it("prints a RegisterTaskDefinition input and exits 0", async () => {
    const r = await run(["inject", "--file", example]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    expect(out.containerDefinitions.map((c: { name: string }) => c.name)).toEqual([
      "app",
      "dns-cache-init",
      "dns-cache",
    ]);
    expect(r.stdout.endsWith("}\n")).toBe(true);
  });

  it("reads stdin when no file or - is given", async () => {
    const viaStdin = await run(["inject"], JSON.stringify(fargateApp()));
    const viaDash = await run(["inject", "-"], JSON.stringify(fargateApp()));
    const viaFile = await run(["inject", "-f", example]);
    expect(viaStdin.stdout).toBe(viaFile.stdout);
    expect(viaDash.stdout).toBe(viaFile.stdout);
  });

  it("gives the same bytes when run on its own output, and says it is up to date", async () => {
    const first = await run(["inject", "-f", example]);
    const second = await run(["inject"], first.stdout);
    expect(second.code).toBe(EXIT.ok);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toMatch(/app is already up to date/);
  });

  it("lets flags override tags", async () => {
    const tagged = file(
      "tagged.json",
      JSON.stringify(fargateApp({ tags: [{ key: "dns-cache:fallback", value: "on" }] })),
    );
    const r = await run(["inject", "-f", tagged, "--fallback", "off", "--upstream", "10.1.0.2,10.2.0.2"]);
    const script = JSON.parse(r.stdout).containerDefinitions[1].command[0];
    expect(script).toContain("fallback=off");
    expect(script).toContain("fixed_upstreams='10.1.0.2 10.2.0.2'");
  });

  it("writes to --output", async () => {
    const out = join(dir, "out.json");
    const r = await run(["inject", "-f", example, "-o", out]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toBe("");
    expect(readFileSync(out, "utf8")).toBe((await run(["inject", "-f", example])).stdout);
  });

  it("exits 2 with every reason code on stderr when refused", async () => {
    const bridge = file(
      "bridge.json",
      JSON.stringify(
        fargateApp({
          networkMode: "bridge",
          runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2022_FULL" },
        }),
      ),
    );
    const r = await run(["inject", "-f", bridge]);
    expect(r.code).toBe(EXIT.refused);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^dns-cache: refused: NETWORK_MODE_NOT_AWSVPC: network mode is bridge/m);
    expect(r.stderr).toMatch(/^dns-cache: refused: WINDOWS_PLATFORM: /m);
  });

  it.each([
    [
      "invalid JSON",
      '{\n  "family": "app",\n  oops\n}',
      /is not valid JSON \(line 3 column 3: expected double-quoted property name\)/,
    ],
    ["truncated JSON", '{"family": ', /is not valid JSON \(line 1 column 12: /],
    ["an array", "[]", /not a task definition: expected a JSON object, got an array/],
    ["an empty object", "{}", /not a task definition: it has no "containerDefinitions"/],
    ["a string", '"app"', /got a string/],
    ["an empty file", "", /is empty/],
  ])("exits 1 with one clear line for %s", async (_, content, message) => {
    const r = await run(["inject", "-f", file("bad.json", content)]);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  it.each([
    [["inject", "-f", join(dir, "missing.json")], /cannot read .*missing.json: no such file/],
    [["inject", "-f", dir], /it is a directory/],
    [["inject", "--nope"], /unknown option --nope/],
    [["inject", "--fallback", "sometimes", "-f", example], /--fallback: expected on or off, got "sometimes"/],
    [["inject", "a.json", "b.json"], /unexpected argument "b.json"/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("exits 1 for bad usage %j", async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toMatch(message);
  });

  it("does not wait on a terminal when no input is given", async () => {
    const r = await run(["inject"], "", true);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toMatch(/no input/);
  });
});

describe("dns-cache check", () => {
  it("explains what would change", async () => {
    const r = await run(["check", "-f", example]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^app: would inject/);
    expect(r.stdout).toMatch(/container app: waits for dns-cache-init SUCCESS and dns-cache HEALTHY/);
    expect(r.stdout).toMatch(/memory: task 512 MiB, containers reserve 0 MiB, dns-cache adds 40 MiB/);
  });

  it("says when a definition is up to date, and prints JSON on request", async () => {
    const injected = (await run(["inject", "-f", example])).stdout;
    expect((await run(["check"], injected)).stdout).toMatch(/^app: already up to date/);
    const json = JSON.parse((await run(["check", "--format", "json"], injected)).stdout);
    expect(json).toMatchObject({ family: "app", outcome: "up-to-date", healthPort: 18053 });
  });

  it("exits 2 and lists reasons when refused", async () => {
    const r = await run([
      "check",
      "-f",
      file("host.json", JSON.stringify(fargateApp({ networkMode: "host" }))),
    ]);
    expect(r.code).toBe(EXIT.refused);
    expect(r.stdout).toMatch(/app: refused\n {2}NETWORK_MODE_NOT_AWSVPC: network mode is host/);
  });
});

describe("help", () => {
  it.each([["--help"], ["inject", "--help"], ["check", "-h"], ["help", "inject"]])(
    "prints help for %j and exits 0",
    async (...argv) => {
      const r = await run(argv);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stdout).toMatch(/Usage: dns-cache/);
    },
  );

  it.each(["inject", "check"])(
    "%s --help documents every option flag: help, default and tag",
    async (command) => {
      const r = await run([command, "--help"]);
      expect(r.code).toBe(EXIT.ok);
      expect(OPTION_SPECS.length).toBeGreaterThanOrEqual(17);
      for (const spec of OPTION_SPECS) {
        const def = (spec.format as (v: unknown) => string)(DEFAULT_OPTIONS[spec.key]);
        expect(r.stdout, spec.name).toContain(
          `  --${spec.name} VALUE\n      ${spec.help} [default: ${def}; tag dns-cache:${spec.name}]\n`,
        );
      }
      // No flag documented that is not an option.
      const documented = [...r.stdout.matchAll(/^ {2}--([a-z0-9-]+) VALUE$/gm)].map((m) => m[1]);
      expect(documented).toEqual(OPTION_SPECS.map((s) => s.name));
    },
  );

  it.each(OPTION_SPECS.map((s) => [s.name, s] as const))(
    "accepts the documented flag --%s",
    async (_, spec) => {
      const def = (spec.format as (v: unknown) => string)(DEFAULT_OPTIONS[spec.key]);
      const r = await run(["inject", "--file", example, `--${spec.name}`, def]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(EXIT.ok);
    },
  );
});

describe("the installed bin", () => {
  const bin = (args: string[], input?: string) =>
    spawnSync("npx", ["--no-install", "dns-cache", ...args], {
      encoding: "utf8",
      input: input ?? "",
      cwd: process.cwd(),
    });

  it("runs through npx after install, with the documented exit codes and no stack traces", () => {
    const ok = bin(["inject", "--file", "examples/app-task-definition.json"]);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).family).toBe("app");
    const up = bin(["inject"], ok.stdout);
    expect(up.status).toBe(0);
    expect(up.stdout).toBe(ok.stdout);
    const bad = bin(["inject", "--file", "does-not-exist.json"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe("dns-cache: cannot read does-not-exist.json: no such file\n");
    const refused = bin(["inject"], serialize(fargateApp({ networkMode: "bridge" })));
    expect(refused.status).toBe(2);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });
});
