/**
 * Issue 11, items 4–9: every field the engine reads or writes is checked as ECS would (an input error
 * naming the field), memory advice that works when followed, and Windows definitions recognised.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type MemoryAdvice, memoryAdvice } from "#shared/engine/checks.ts";
import { InvalidInputError, REFUSAL_REASONS } from "#shared/engine/errors.ts";
import { type InjectResult, inject } from "#shared/engine/inject.ts";
import { fargateMemorySizes } from "#shared/engine/memory.ts";
import type { TaskDefinitionInput } from "#shared/engine/task-definition.ts";
import { MAX_DEPTH } from "#shared/engine/validate.ts";
import { fargateApp } from "./helpers/fixtures.ts";

type Json = Record<string, unknown>;

/** The example with its first container changed. */
function withContainer(fields: Json, top: Json = {}): Json {
  const def = fargateApp() as unknown as Json;
  const [first] = def.containerDefinitions as Json[];
  return { ...def, ...top, containerDefinitions: [{ ...first, ...fields }] };
}

function inputError(value: unknown): string {
  try {
    inject(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error("expected an input error, got a result");
}

const reasons = (r: InjectResult) => (r.outcome === "refused" ? r.refusals.map((x) => x.reason) : []);

describe("item 4: wrongly shaped fields are input errors naming the field", () => {
  it.each([
    [
      { portMappings: { containerPort: 8080 } },
      /^containerDefinitions\[0\]\.portMappings must be an array of port mappings, got an object/,
    ],
    [{ portMappings: [8080] }, /containerDefinitions\[0\]\.portMappings\[0\] must be an object/],
    [{ dependsOn: "db" }, /containerDefinitions\[0\]\.dependsOn must be an array/],
    [
      { dependsOn: [{ containerName: "db" }] },
      /dependsOn\[0\]\.condition must be one of START, COMPLETE, SUCCESS, HEALTHY/,
    ],
    [{ mountPoints: {} }, /containerDefinitions\[0\]\.mountPoints must be an array/],
    [{ logConfiguration: [] }, /containerDefinitions\[0\]\.logConfiguration must be an object/],
    [
      { logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": 5 } } },
      /logConfiguration\.options\.awslogs-group must be a string/,
    ],
    [{ dockerLabels: ["a"] }, /containerDefinitions\[0\]\.dockerLabels must be an object/],
    [{ entryPoint: "sh -c" }, /containerDefinitions\[0\]\.entryPoint must be an array of strings/],
    [{ essential: "yes" }, /containerDefinitions\[0\]\.essential must be true or false/],
  ])("containers: %j", (fields, message) => {
    expect(inputError(withContainer(fields))).toMatch(message);
  });

  it("volumes as an object, and in a DescribeTaskDefinition output the path says taskDefinition", () => {
    expect(inputError(withContainer({}, { volumes: { name: "data" } }))).toMatch(
      /^volumes must be an array of volume objects, got an object/,
    );
    const described = { taskDefinition: withContainer({ portMappings: {} }) };
    expect(inputError(described)).toMatch(/^taskDefinition\.containerDefinitions\[0\]\.portMappings must be/);
  });

  it("reports every problem at once", () => {
    const message = inputError(
      withContainer({ portMappings: {}, memory: "256" }, { networkMode: "default" }),
    );
    expect(message).toMatch(/networkMode/);
    expect(message).toMatch(/portMappings/);
    expect(message).toMatch(/memory/);
  });

  it.each([2_000, 100_000])("nesting %i levels deep is an input error, not a stack overflow", (levels) => {
    const deep = JSON.parse(`${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`);
    expect(inputError(withContainer({ linuxParameters: deep }))).toMatch(/nests deeper than 100 levels/);
  });

  it("accepts nesting up to the limit, and keeps unknown fields untouched", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < MAX_DEPTH - 5; i++) deep = { a: deep };
    const result = inject(withContainer({ someFutureField: deep }, { anotherFutureField: [1, { b: 2 }] }));
    expect(result.outcome).toBe("injected");
    if (result.outcome !== "injected") return;
    expect(result.definition.containerDefinitions[0]?.someFutureField).toEqual(deep);
    expect(result.definition.anotherFutureField).toEqual([1, { b: 2 }]);
  });
});

describe("item 5: strings where numbers belong", () => {
  it.each([
    ["memory", "256"],
    ["memoryReservation", "512"],
    ["cpu", "128"],
  ])(
    "a container's %s as the string %s is refused as input, with no arithmetic done on it",
    (field, value) => {
      const message = inputError(withContainer({ [field]: value }));
      expect(message).toBe(
        `containerDefinitions[0].${field} must be a number (${field === "cpu" ? "CPU units" : "MiB"}), not a string: write ${value} without quotes`,
      );
      expect(message).not.toMatch(/0256|reserve/);
    },
  );

  it("task memory and cpu given as numbers are normalised to the API's string form", () => {
    const result = inject({ ...fargateApp(), memory: 512, cpu: 256 });
    expect(result.outcome).toBe("injected");
    if (result.outcome !== "injected") return;
    expect(result.definition.memory).toBe("512");
    expect(result.definition.cpu).toBe("256");
    expect(result.memory.task).toBe(512);
  });

  it.each([
    [{ memory: 512.5 }, /^memory must be a size ECS accepts/],
    [{ memory: -512 }, /^memory must be a size ECS accepts/],
    [{ memory: "lots" }, /^memory must be a size ECS accepts .*got a string \("lots"\)/],
    [{ cpu: "fast" }, /^cpu must be a size ECS accepts/],
    [{ cpu: true }, /^cpu must be a size ECS accepts .*got boolean true/],
  ])("task size %j that ECS refuses is an input error", (top, message) => {
    expect(inputError({ ...fargateApp(), ...top })).toMatch(message);
  });
});

describe("item 6: memory advice names the field the container sets, and following it injects", () => {
  const ec2 = (containers: Json[], memory = "512"): Json => ({
    family: "app",
    networkMode: "awsvpc",
    requiresCompatibilities: ["EC2"],
    memory,
    containerDefinitions: containers.map((c, i) => ({ name: `c${i}`, image: "nginx", ...c })),
  });

  it("the issue's case: task 512 MiB, a container memory of 1024 and no reservation", () => {
    const result = inject({ ...ec2([{ memory: 1024 }]), requiresCompatibilities: ["FARGATE"], cpu: "256" });
    expect(reasons(result)).toEqual([REFUSAL_REASONS.INSUFFICIENT_MEMORY]);
    const message = result.outcome === "refused" ? result.refusals[0]?.message : "";
    expect(message).toContain(`lower container "c0"'s memory from 1024 to 472 MiB`);
    expect(message).toContain("raise the task memory to 2048 MiB");
    expect(message).not.toContain("memoryReservation");
  });

  it("a container memory above the task's, with the reservations fitting, is refused with working advice", () => {
    const def = ec2([{ memoryReservation: 100, memory: 2048 }]);
    const result = inject(def);
    expect(reasons(result)).toEqual([REFUSAL_REASONS.INSUFFICIENT_MEMORY]);
    const advice = memoryAdvice(def as unknown as TaskDefinitionInput, 512, 40);
    expect(advice.lower).toEqual({ index: 0, container: "c0", field: "memory", from: 2048, to: 512 });
    expect(inject(applyLower(def, advice)).outcome).toBe("injected");
  });

  function applyLower(def: Json, advice: MemoryAdvice): Json {
    const copy = structuredClone(def);
    const lower = advice.lower;
    if (!lower) throw new Error("no lowering advice");
    ((copy.containerDefinitions as Json[])[lower.index] as Json)[lower.field] = lower.to;
    return copy;
  }

  function applyRaise(def: Json, advice: MemoryAdvice): Json {
    const raise = advice.raise;
    if (!raise) throw new Error("no raising advice");
    return { ...def, memory: String(raise.memory), ...(raise.cpu ? { cpu: String(raise.cpu) } : {}) };
  }

  const containerMemory = fc
    .record({
      hard: fc.option(fc.integer({ min: 6, max: 3000 }), { nil: undefined }),
      soft: fc.option(fc.integer({ min: 6, max: 3000 }), { nil: undefined }),
    })
    .map(({ hard, soft }) => {
      const c: Json = {};
      if (hard !== undefined) c.memory = hard;
      if (soft !== undefined) c.memoryReservation = hard !== undefined ? Math.min(soft, hard) : soft;
      return c;
    });
  const fargateSize = fc
    .constantFrom(256, 512, 1024, 2048, 4096)
    .chain((cpu) => fc.constantFrom(...fargateMemorySizes(cpu)).map((memory) => ({ cpu, memory })));

  it("property: every piece of advice, applied alone, then injects (EC2 and Fargate)", () => {
    fc.assert(
      fc.property(
        fc.array(containerMemory, { minLength: 1, maxLength: 4 }),
        fc.oneof(
          fc.integer({ min: 64, max: 4096 }).map((memory) => ({ memory, cpu: undefined })),
          fargateSize,
        ),
        (containers, size) => {
          const def: Json = {
            ...ec2(containers, String(size.memory)),
            ...(size.cpu ? { cpu: String(size.cpu), requiresCompatibilities: ["FARGATE"] } : {}),
          };
          const result = inject(def);
          if (!reasons(result).includes(REFUSAL_REASONS.INSUFFICIENT_MEMORY)) return;
          const advice = memoryAdvice(def as unknown as TaskDefinitionInput, size.memory, 40);
          expect(advice.lower ?? advice.raise).toBeDefined();
          const message = result.outcome === "refused" ? result.refusals[0]?.message : "";
          if (advice.lower) {
            const { container, field, from, to } = advice.lower;
            expect(message).toContain(`lower container "${container}"'s ${field} from ${from} to ${to} MiB`);
            const c = (def.containerDefinitions as Json[])[advice.lower.index] as Json;
            // The advice names a field the container sets, with its current value.
            expect(c[field]).toBe(from);
            expect(inject(applyLower(def, advice)).outcome).toBe("injected");
          }
          if (advice.raise) {
            expect(message).toContain(`memory to ${advice.raise.memory} MiB`);
            expect(inject(applyRaise(def, advice)).outcome).toBe("injected");
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("item 7: Windows task definitions are recognised", () => {
  it("the issue's gMSA task: microsoft/iis, a PowerShell entry point, awsvpc on EC2", () => {
    const result = inject({
      family: "iis-gmsa",
      networkMode: "awsvpc",
      requiresCompatibilities: ["EC2"],
      containerDefinitions: [
        {
          name: "iis",
          image: "microsoft/iis",
          memory: 1024,
          entryPoint: ["powershell", "-Command"],
          command: ["New-Item -Path C:\\inetpub\\wwwroot\\index.html; C:\\ServiceMonitor.exe w3svc"],
          credentialSpecs: ["credentialspecdomainless:arn:aws:ssm:us-east-1:123456789012:parameter/gmsa"],
        },
      ],
    });
    expect(reasons(result)).toEqual([REFUSAL_REASONS.WINDOWS_PLATFORM]);
  });

  it.each([
    [{ image: "microsoft/aspnet:4.8" }],
    [{ image: "docker.io/microsoft/dotnet-framework:4.8" }],
    [{ entryPoint: ["powershell.exe", "-File", "start.ps1"] }],
    [{ command: ["cmd.exe", "/c", "start.bat"] }],
    [{ entryPoint: ["C:\\app\\server.exe"] }],
    [{ workingDirectory: "C:\\app" }],
    [{ mountPoints: [{ sourceVolume: "data", containerPath: "C:/data" }] }],
  ])("%j without a runtimePlatform is WINDOWS_PLATFORM", (fields) => {
    const def = withContainer(fields, { runtimePlatform: undefined, requiresCompatibilities: ["EC2"] });
    expect(reasons(inject(def))).toContain(REFUSAL_REASONS.WINDOWS_PLATFORM);
  });

  it.each([
    [{ image: "microsoft/dotnet:8.0" }],
    [{ image: "microsoft/mssql-server-linux" }],
    [{ image: "myorg/microsoft/iis-proxy" }],
    [{ entryPoint: ["pwsh", "-File", "start.ps1"] }],
    [{ workingDirectory: "/app/C:" }],
  ])("%j is not taken for Windows", (fields) => {
    expect(inject(withContainer(fields)).outcome).toBe("injected");
  });
});

describe("item 8: values ECS does not accept are input errors naming the allowed values", () => {
  it.each([
    [
      { networkMode: "default" },
      'networkMode must be one of awsvpc, bridge, host, none; got a string ("default")',
    ],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an unrendered Terraform placeholder, on purpose
    [{ networkMode: "${network_mode}" }, "networkMode must be one of awsvpc, bridge, host, none"],
    [
      { requiresCompatibilities: ["FARGATE_SPOT"] },
      "requiresCompatibilities[0] must be one of EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES",
    ],
    [{ requiresCompatibilities: "FARGATE" }, "requiresCompatibilities must be an array of strings"],
    [
      { runtimePlatform: { operatingSystemFamily: "windows" } },
      "runtimePlatform.operatingSystemFamily must be one of LINUX, WINDOWS_SERVER_…",
    ],
    [
      { runtimePlatform: { cpuArchitecture: "arm64" } },
      "runtimePlatform.cpuArchitecture must be one of X86_64, ARM64",
    ],
  ])("%j", (top, message) => {
    expect(inputError(withContainer({}, top))).toContain(message);
  });

  it("bridge, host and none stay refusals, and a new Windows Server family is still Windows", () => {
    expect(reasons(inject(withContainer({}, { networkMode: "host" })))).toContain(
      REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
    );
    const future = withContainer(
      {},
      { runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2028_CORE" } },
    );
    expect(reasons(inject(future))).toContain(REFUSAL_REASONS.WINDOWS_PLATFORM);
  });

  it.each([
    [{ protocol: "TCP" }, "portMappings[0].protocol must be one of tcp, udp"],
    [{ logDriver: "cloudwatch" }, "logConfiguration.logDriver must be one of awslogs"],
  ])("container enums: %j", (fields, message) => {
    const c =
      "logDriver" in fields
        ? { logConfiguration: { logDriver: fields.logDriver } }
        : { portMappings: [{ containerPort: 80, ...fields }] };
    expect(inputError(withContainer(c))).toContain(message);
  });
});

describe("item 9: values that pass today but ECS rejects", () => {
  it.each([
    [{ image: undefined }, "containerDefinitions[0].image is required"],
    [{ image: "" }, "containerDefinitions[0].image is required"],
    [{ name: "my app" }, 'containerDefinitions[0].name "my app" is not a container name ECS accepts'],
    [
      { memoryReservation: -40 },
      "containerDefinitions[0].memoryReservation must be from 1 to 2147483647 (MiB), got -40",
    ],
    [{ memory: 128, memoryReservation: 256 }, "memoryReservation (256 MiB) must not be above its memory"],
    [
      { portMappings: [{ containerPort: "53" }] },
      "portMappings[0].containerPort must be a number, not a string: write 53 without quotes",
    ],
    [
      { portMappings: [{ containerPort: 70000 }] },
      "portMappings[0].containerPort must be from 0 to 65535, got 70000",
    ],
    [{ portMappings: [{ containerPortRange: "9000-8000" }] }, 'containerPortRange must be "FROM-TO"'],
    [
      { dependsOn: { containerName: "db", condition: "START" } },
      "containerDefinitions[0].dependsOn must be an array",
    ],
  ])("%j", (fields, message) => {
    expect(inputError(withContainer(fields))).toContain(message);
  });

  it.each([
    [{ family: "my app" }, 'family "my app" is not a family name ECS accepts'],
    [{ family: "a".repeat(256) }, "is not a family name ECS accepts"],
    [{ family: 7 }, "family must be a string, got number 7"],
    [{ tags: [{ key: "team", value: "a,b" }] }, "tags[0] (team) value has characters ECS refuses in tags"],
    [{ tags: [{ key: "k".repeat(129), value: "v" }] }, "tags[0] key must be 1 to 128 characters"],
  ])("task level: %j", (top, message) => {
    expect(inputError(withContainer({}, top))).toContain(message);
  });

  it("a dependsOn that is not an array is no longer replaced silently", () => {
    expect(() => inject(withContainer({ dependsOn: "db" }))).toThrow(InvalidInputError);
  });
});
