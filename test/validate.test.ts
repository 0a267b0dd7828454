/**
 * The input checks against what RegisterTaskDefinition accepts (shared/engine/validate.ts), as users read
 * them: the exact message for each field and value ECS would refuse, the boundaries that pass, and the
 * cap on how many problems one message lists.
 */
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "#shared/engine/errors.ts";
import { normalize } from "#shared/engine/task-definition.ts";
import { MAX_DEPTH } from "#shared/engine/validate.ts";

type Json = Record<string, unknown>;

const definition = (container: Json = {}, top: Json = {}): Json => ({
  family: "app",
  networkMode: "awsvpc",
  containerDefinitions: [{ name: "app", image: "nginx:1.27", ...container }],
  ...top,
});

function inputError(value: unknown): string {
  try {
    normalize(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error("expected an input error");
}

const at = "containerDefinitions[0]";

describe("container fields ECS would refuse", () => {
  it.each([
    [{ name: 7 }, `${at}.name must be a string, got number 7`],
    [{ image: ["nginx"] }, `${at}.image must be a string, got an array`],
    [{ image: null }, `${at}.image is required (the container's image)`],
    [{ cpu: 1.5 }, `${at}.cpu must be a whole number (CPU units), got number 1.5`],
    [{ cpu: -1 }, `${at}.cpu must be from 0 to 2147483647 (CPU units), got -1`],
    [{ memory: 0 }, `${at}.memory must be from 1 to 2147483647 (MiB), got 0`],
    [{ memory: 2_147_483_648 }, `${at}.memory must be from 1 to 2147483647 (MiB), got 2147483648`],
    [{ memory: " 256 " }, `${at}.memory must be a number (MiB), not a string: write 256 without quotes`],
    [{ memory: "256 MiB" }, `${at}.memory must be a whole number (MiB), got a string ("256 MiB")`],
    [{ memory: true }, `${at}.memory must be a whole number (MiB), got boolean true`],
    [{ memory: "~256" }, `${at}.memory must be a whole number (MiB), got a string ("~256")`],
    [{ memory: "256M" }, `${at}.memory must be a whole number (MiB), got a string ("256M")`],
    [
      { memory: "128", memoryReservation: 256 },
      `${at}.memory must be a number (MiB), not a string: write 128 without quotes`,
    ],
    [
      { memory: 128, memoryReservation: "256" },
      `${at}.memoryReservation must be a number (MiB), not a string: write 256 without quotes`,
    ],
    [
      { dependsOn: "db" },
      `${at}.dependsOn must be an array of {containerName, condition}, got a string ("db")`,
    ],
    [{ mountPoints: {} }, `${at}.mountPoints must be an array of mount points, got an object`],
    [
      { memory: 128, memoryReservation: 129 },
      `${at}.memoryReservation (129 MiB) must not be above its memory, the hard limit (128 MiB)`,
    ],
    [
      { essential: null, dependsOn: [null] },
      `${at}.dependsOn[0] must be an object {containerName, condition}, got null`,
    ],
    [
      { dependsOn: [{ containerName: 5, condition: "START" }] },
      `${at}.dependsOn[0].containerName must be a string, got number 5`,
    ],
    [
      { mountPoints: ["/data"] },
      `${at}.mountPoints[0] must be an object {sourceVolume, containerPath}, got a string ("/data")`,
    ],
    [
      { mountPoints: [{ sourceVolume: 1 }] },
      `${at}.mountPoints[0].sourceVolume must be a string, got number 1`,
    ],
    [
      { mountPoints: [{ containerPath: {} }] },
      `${at}.mountPoints[0].containerPath must be a string, got an object`,
    ],
    [{ command: ["run", 1] }, `${at}.command[1] must be a string, got number 1`],
    [{ entryPoint: [false] }, `${at}.entryPoint[0] must be a string, got boolean false`],
    [{ workingDirectory: 1 }, `${at}.workingDirectory must be a string, got number 1`],
    [{ dockerLabels: { team: 1 } }, `${at}.dockerLabels.team must be a string, got number 1`],
    [
      { dockerLabels: "team=a" },
      `${at}.dockerLabels must be an object of string values, got a string ("team=a")`,
    ],
    [
      { logConfiguration: { logDriver: "awslogs", options: [] } },
      `${at}.logConfiguration.options must be an object of string values, got an array`,
    ],
    [
      { logConfiguration: {} },
      `${at}.logConfiguration.logDriver must be one of awslogs, awsfirelens, fluentd, gelf, journald, json-file, splunk, syslog; got an undefined`,
    ],
    [
      { portMappings: [{ hostPort: 65536 }] },
      `${at}.portMappings[0].hostPort must be from 0 to 65535, got 65536`,
    ],
    [
      { portMappings: [{ containerPort: -1 }] },
      `${at}.portMappings[0].containerPort must be from 0 to 65535, got -1`,
    ],
    [
      { portMappings: [{ protocol: "sctp" }] },
      `${at}.portMappings[0].protocol must be one of tcp, udp; got a string ("sctp")`,
    ],
    [
      { portMappings: [{ containerPortRange: 8000 }] },
      `${at}.portMappings[0].containerPortRange must be a string, got number 8000`,
    ],
  ])("%j", (container, message) => {
    expect(inputError(definition(container))).toBe(message);
  });

  it.each([
    ["0-10", 'got a string ("0-10")'],
    ["8000-8000", 'got a string ("8000-8000")'],
    ["1-65536", 'got a string ("1-65536")'],
    [" 1-2", 'got a string (" 1-2")'],
    ["1-2 ", 'got a string ("1-2 ")'],
    ["100000-100001", 'got a string ("100000-100001")'],
  ])("containerPortRange %j is refused", (range, got) => {
    expect(inputError(definition({ portMappings: [{ containerPortRange: range }] }))).toBe(
      `${at}.portMappings[0].containerPortRange must be "FROM-TO" with 1 <= FROM < TO <= 65535, ${got}`,
    );
  });

  it.each([
    [{ portMappings: [{ containerPortRange: "1-65535", hostPort: 0, containerPort: 65535 }] }],
    [{ cpu: 0, memory: 2_147_483_647, memoryReservation: 2_147_483_647 }],
    [{ memory: 1, memoryReservation: 1 }],
    [{ name: "a".repeat(255) }],
    [{ essential: false, dockerLabels: {}, logConfiguration: { logDriver: "json-file" } }],
    // Terraform and CloudFormation write null for fields left unset.
    [
      {
        cpu: null,
        memory: null,
        memoryReservation: null,
        essential: null,
        portMappings: null,
        dependsOn: null,
        mountPoints: [{ readOnly: true, sourceVolume: null, containerPath: null }],
        entryPoint: null,
        command: null,
        workingDirectory: null,
        dockerLabels: null,
        logConfiguration: null,
      },
    ],
  ])("%j passes", (container) => {
    expect(() => normalize(definition(container))).not.toThrow();
  });
});

describe("task-level fields", () => {
  it.each([
    [{ runtimePlatform: "LINUX" }, 'runtimePlatform must be an object, got a string ("LINUX")'],
    [{ runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2022_CORE_X" } }, null],
    [
      { runtimePlatform: { operatingSystemFamily: "XWINDOWS_SERVER_2022" } },
      'runtimePlatform.operatingSystemFamily must be one of LINUX, WINDOWS_SERVER_…; got a string ("XWINDOWS_SERVER_2022")',
    ],
    [
      { runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2022 " } },
      'runtimePlatform.operatingSystemFamily must be one of LINUX, WINDOWS_SERVER_…; got a string ("WINDOWS_SERVER_2022 ")',
    ],
    [
      { requiresCompatibilities: [7] },
      "requiresCompatibilities[0] must be one of EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES; got number 7",
    ],
    [{ volumes: [{ name: 3 }] }, "volumes[0].name must be a string, got number 3"],
    [{ volumes: ["data"] }, 'volumes[0] must be a volume object, got a string ("data")'],
    [{ memory: 0 }, 'memory must be a size ECS accepts (MiB, or GB as "1 GB"), got number 0'],
    [{ cpu: 0 }, 'cpu must be a size ECS accepts (CPU units, or vCPUs as "1 vCPU"), got number 0'],
    [{ cpu: 0.5 }, 'cpu must be a size ECS accepts (CPU units, or vCPUs as "1 vCPU"), got number 0.5'],
    [{ runtimePlatform: { cpuArchitecture: "ARM64" } }, null],
    [{ volumes: [{ name: null, host: {} }], memory: null, cpu: null, runtimePlatform: null }, null],
    [
      { cpu: "1 core" },
      'cpu must be a size ECS accepts (CPU units, or vCPUs as "1 vCPU"), got a string ("1 core")',
    ],
    [
      { family: "a".repeat(256) },
      `family "${"a".repeat(256)}" is not a family name ECS accepts: up to 255 letters, numbers, underscores and hyphens`,
    ],
  ])("%j", (top, message) => {
    if (message === null) expect(() => normalize(definition({}, top))).not.toThrow();
    else expect(inputError(definition({}, top))).toBe(message);
  });

  it("a long string is quoted up to 60 characters in the message", () => {
    const family = `${"a".repeat(70)}!`;
    expect(inputError(definition({}, { networkMode: family }))).toBe(
      `networkMode must be one of awsvpc, bridge, host, none; got a string (${JSON.stringify(family.slice(0, 60))})`,
    );
  });

  it("lists at most 10 problems, then how many more", () => {
    const containers = Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, image: "" }));
    const message = inputError({ family: "app", containerDefinitions: containers });
    const parts = message.split("; ");
    expect(parts).toHaveLength(11);
    expect(parts[0]).toBe("containerDefinitions[0].image is required (the container's image)");
    expect(parts[9]).toBe("containerDefinitions[9].image is required (the container's image)");
    expect(parts[10]).toBe("and 2 more");
    const ten = Array.from({ length: 10 }, (_, i) => ({ name: `c${i}`, image: "" }));
    expect(inputError({ family: "app", containerDefinitions: ten }).split("; ")).toHaveLength(10);
  });

  it("nesting exactly at the limit passes; one level more is refused", () => {
    const nest = (levels: number) => {
      let value: unknown = {};
      for (let i = 1; i < levels; i++) value = { a: value };
      return value;
    };
    // The definition is level 1, a container's field level 4 (definition, list, container, field).
    expect(() => normalize(definition({ linuxParameters: nest(MAX_DEPTH - 3) }))).not.toThrow();
    expect(inputError(definition({ linuxParameters: nest(MAX_DEPTH - 2) }))).toBe(
      "the input nests deeper than 100 levels; no task definition does (is it generated by mistake?)",
    );
  });
});

describe("tags", () => {
  it.each([
    [{ key: "k".repeat(128), value: "v".repeat(256) }, null],
    [{ key: "team", value: "" }, null],
    [{ key: "é:/=+-@_. 1", value: "é:/=+-@_. 1" }, null],
    [{ key: "k".repeat(129), value: "v" }, "tags[0] key must be 1 to 128 characters, got 129"],
    [{ key: "team", value: "v".repeat(257) }, "tags[0] (team) value is over 256 characters"],
    [{ key: "team", value: "a\nb" }, "tags[0] (team) value has characters ECS refuses in tags"],
    [{ key: "team*", value: "a" }, 'tags[0] key "team*" has characters ECS refuses in tags'],
  ])("%j", (tag, message) => {
    const value = definition({}, { tags: [tag] });
    if (message === null) expect(() => normalize(value)).not.toThrow();
    else expect(inputError(value)).toBe(message);
  });
});
