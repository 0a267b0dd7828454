import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { type CliIo, EXIT, MAX_INPUT_BYTES, readAll, runCli } from "#shared/cli/cli.ts";
import { InvalidInputError } from "#shared/engine/errors.ts";
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
    // What the task needs that dns-cache cannot see is for `check`; inject stays quiet.
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
    [
      "an empty array",
      "[]",
      /an empty array: give a task definition, or a non-empty containerDefinitions array/,
    ],
    ["an array of strings", '["app"]', /^dns-cache: \[0\] is a string \("app"\), expected an object$/m],
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
    expect(r.stdout).toMatch(/container app: waits for dns-cache-init SUCCESS and dns-cache START/);
    expect(r.stdout).toMatch(/memory: task 512 MiB, containers reserve 0 MiB, dns-cache adds 40 MiB/);
    // The example's only image is in private ECR: nothing shows the task can reach ECR Public.
    expect(r.stdout).toMatch(
      /\n {2}warning: \S+ and \S+ are on Amazon ECR Public, which has no VPC endpoint[^\n]*cannot see the task's subnets/,
    );
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

  it.skipIf(process.env.DNS_CACHE_MUTATION_RUN)(
    "runs through npx after install, with the documented exit codes and no stack traces",
    () => {
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
    },
  );
});

/** The built CLI under a shell, as users pipe it (bash for PIPESTATUS). */
function shell(script: string) {
  const cli = `"${process.execPath}" bin/dns-cache.mjs`;
  // timeout(1) signals its whole process group: a pipeline that never ends cannot hang the suite.
  return spawnSync("timeout", ["-k", "5", "30", "bash", "-c", script.replaceAll("CLI", cli)], {
    encoding: "utf8",
    cwd: process.cwd(),
  });
}

/** Compact under ECS's 64 KiB, so injectable, but over 64 KiB (a pipe's buffer) as printed. */
const big = file(
  "big.json",
  JSON.stringify(
    fargateApp({
      containerDefinitions: [
        {
          ...fargateApp().containerDefinitions[0],
          name: "app",
          environment: Array.from({ length: 700 }, (_, i) => ({ name: `V${i}`, value: "x".repeat(40) })),
        },
      ],
    }),
  ),
);

describe("issue 11 item 10: output errors", () => {
  it("a reader that closes the pipe early (| head -c1) ends the CLI quietly with 141, as SIGPIPE would", () => {
    const r = shell(`CLI inject -f ${big} | head -c1 >/dev/null; echo "status=\${PIPESTATUS[0]}"`);
    expect(r.stdout.trim()).toBe("status=141");
    expect(r.stderr).toBe("");
  });

  it("a full disk on stdout or on -o is one line and exit 1, never a stack trace", () => {
    const stdout = shell(`CLI inject -f ${big} > /dev/full`);
    expect(stdout.status).toBe(1);
    expect(stdout.stderr).toBe("dns-cache: cannot write to stdout: no space left on device\n");
    const output = shell(`CLI inject -f ${big} -o /dev/full`);
    expect(output.status).toBe(1);
    expect(output.stderr).toBe("dns-cache: cannot write /dev/full: no space left on device\n");
  });
});

describe("issue 11 item 11: flags", () => {
  it("-o - writes to stdout, as -f - reads stdin, and creates no file named -", async () => {
    const r = await run(["inject", "-f", example, "-o", "-"]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toBe((await run(["inject", "-f", example])).stdout);
    expect(existsSync("-")).toBe(false);
  });

  it.each([
    [
      ["check", "-f", "x.json", "-o", "out.json"],
      "dns-cache: -o is an option of dns-cache inject, not of check (see dns-cache check --help)",
    ],
    [
      ["check", "--output", "out.json"],
      "dns-cache: --output is an option of dns-cache inject, not of check (see dns-cache check --help)",
    ],
    [
      ["inject", "--format", "json"],
      "dns-cache: --format is an option of dns-cache check, not of inject (see dns-cache inject --help)",
    ],
    [["inject", "-f", "x.json", "-o", ""], "dns-cache: --output needs a path (or - for stdout)"],
    [["inject", "-f", ""], "dns-cache: --file needs a path (or - for stdin)"],
    [["inject", "-o"], "dns-cache: --output needs a value (see dns-cache inject --help)"],
    [
      ["inject", "--cache-success", "-5"],
      'dns-cache: --cache-success needs a value, and "-5" looks like an option; if it is the value, write --cache-success=-5 (see dns-cache inject --help)',
    ],
    [
      ["inject", "-f", "x.json", "--cache-success=-5"],
      'dns-cache: --cache-success: expected a whole number from 1024 to 1000000, got "-5"',
    ],
    [["check", "--help=yes"], "dns-cache: --help takes no value (see dns-cache check --help)"],
  ])("%j is an error in one clean line", async (argv, line) => {
    const r = await run(argv, JSON.stringify(fargateApp()));
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`${line}\n`);
  });
});

describe("issue 11 item 12: input is read up to 8 MiB", () => {
  it("readAll stops past the limit and closes an endless stream", async () => {
    const endless = Readable.from(
      (function* () {
        for (;;) yield Buffer.alloc(64 * 1024, 0x79);
      })(),
    );
    await expect(readAll(endless)).rejects.toThrow(InvalidInputError);
    expect(endless.destroyed).toBe(true);
    await expect(readAll(Readable.from([Buffer.alloc(MAX_INPUT_BYTES, 0x20)]))).resolves.toHaveLength(
      MAX_INPUT_BYTES,
    );
  });

  it("`yes | dns-cache inject` and -f /dev/zero end with exit 1 and a clear line", () => {
    const message =
      "is over 8 MiB; a task definition is far smaller (ECS accepts at most 64 KiB), so reading stopped\n";
    const stdin = shell("yes | CLI inject");
    expect(stdin.status).toBe(1);
    expect(stdin.stderr).toBe(`dns-cache: stdin ${message}`);
    const zero = shell("CLI check -f /dev/zero");
    expect(zero.status).toBe(1);
    expect(zero.stderr).toBe(`dns-cache: /dev/zero ${message}`);
  });
});

describe("issue 11 item 13: a bare containerDefinitions array (Terraform's container_definitions)", () => {
  const containers = [
    { name: "web", image: "nginx:1.27", memory: 256, essential: true, portMappings: [{ containerPort: 80 }] },
    { name: "worker", image: "busybox", memoryReservation: 64, essential: false },
  ];
  const array = file("containers.json", JSON.stringify(containers));

  it("prints the injected array and says on stderr what the task definition must add", async () => {
    const r = await run(["inject", "-f", array]);
    expect(r.code).toBe(EXIT.ok);
    const out = JSON.parse(r.stdout);
    expect(Array.isArray(out)).toBe(true);
    expect(out.map((c: { name: string }) => c.name)).toEqual([
      "web",
      "worker",
      "dns-cache-init",
      "dns-cache",
    ]);
    expect(out[0]).toMatchObject({ ...containers[0] });
    expect(out[0].dependsOn).toEqual([
      { containerName: "dns-cache-init", condition: "SUCCESS" },
      { containerName: "dns-cache", condition: "START" },
    ]);
    expect(out[3].mountPoints).toEqual([
      { sourceVolume: "dns-cache", containerPath: "/dns-cache", readOnly: true },
    ]);
    expect(r.stderr).toContain(
      'dns-cache: note: add the volume the dns-cache containers share to the task definition: volume { name = "dns-cache" } in Terraform\'s aws_ecs_task_definition',
    );
    expect(r.stderr).toContain('network_mode = "awsvpc"');
    expect(r.stderr).toContain(
      "the memory check was skipped: the containers reserve 320 MiB and dns-cache adds 40 MiB, so the task's memory must be at least 360 MiB",
    );
  });

  it("with the volume added, the array in a task definition is what injecting that definition gives", async () => {
    const out = JSON.parse((await run(["inject", "-f", array])).stdout);
    const whole = fargateApp({ containerDefinitions: containers, tags: undefined });
    const direct = JSON.parse((await run(["inject"], JSON.stringify(whole))).stdout);
    expect(out).toEqual(direct.containerDefinitions);
    expect(direct.volumes).toEqual([{ name: "dns-cache" }]);
  });

  it("gives the same bytes on its own output and says so; flags apply", async () => {
    const first = await run(["inject", "-f", array, "--health-check", "off"]);
    const second = await run(["inject", "--health-check", "off"], first.stdout);
    expect(second.code).toBe(EXIT.ok);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toMatch(/already up to date/);
    expect(JSON.parse(first.stdout)[0].dependsOn[1].condition).toBe("START");
  });

  it("is covered by check, with the notes, in text and JSON", async () => {
    const text = await run(["check", "-f", array]);
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toMatch(/^containerDefinitions array: would inject/);
    expect(text.stdout).toMatch(/note: add the volume/);
    expect(text.stdout).toMatch(
      /note: task memory is not in a containerDefinitions array, so the memory check was skipped/,
    );
    const json = JSON.parse((await run(["check", "--format", "json", "-f", array])).stdout);
    expect(json.outcome).toBe("injected");
    expect(json.notes).toHaveLength(4);
  });

  it("validates the containers and refuses what the sidecars cannot join", async () => {
    const bad = await run(["inject"], JSON.stringify([{ name: "web", image: "nginx", memory: "256" }]));
    expect(bad.code).toBe(EXIT.badInput);
    expect(bad.stderr).toBe(
      "dns-cache: [0].memory must be a number (MiB), not a string: write 256 without quotes\n",
    );
    const port53 = await run(
      ["inject"],
      JSON.stringify([{ name: "dns", image: "bind9", portMappings: [{ containerPort: 53 }] }]),
    );
    expect(port53.code).toBe(EXIT.refused);
    expect(port53.stderr).toMatch(/PORT_CONFLICT/);
  });
});

describe("issue 11 item 15: one Node version for the CLI and npm", () => {
  it("package.json engines, the CLI bundle's target and the README agree, and no .npmrc hides npm's warnings", () => {
    const engines = JSON.parse(readFileSync("package.json", "utf8")).engines.node as string;
    const major = /^>=(\d+)$/.exec(engines)?.[1];
    expect(major, `engines.node is ${engines}`).toBeDefined();
    const build = readFileSync("scripts/build.mjs", "utf8");
    expect(build).toMatch(new RegExp(`outfile: "dist/cli/index\\.mjs",[^)]*target: "node${major}"`));
    const readme = readFileSync("README.md", "utf8");
    expect(readme).toContain(`Needs Node.js ${major} or later and npm`);
    expect(readme.match(/Node(?:\.js)? \d+ or later/g)?.every((m) => m.endsWith(`${major} or later`))).toBe(
      true,
    );
    const npmrc = existsSync(".npmrc") ? readFileSync(".npmrc", "utf8") : "";
    expect(npmrc).not.toMatch(/loglevel|engine-strict\s*=\s*false/);
  });
});
