/**
 * The refusal rules of the sidecar path (shared/engine/checks.ts) as users meet them: each refusal's reason
 * code and the exact sentence that says what to change, the ports the cache takes, the memory advice's
 * figures, and the warnings `check` prints about what dns-cache cannot see.
 */
import { describe, expect, it } from "vitest";
import { checkPlatform } from "#shared/engine/checks.ts";
import { REFUSAL_REASONS, type Refusal } from "#shared/engine/errors.ts";
import { type InjectContext, type Injected, type InjectResult, inject } from "#shared/engine/inject.ts";
import type { TaskDefinitionInput } from "#shared/engine/task-definition.ts";

type Json = Record<string, unknown>;

const PRIVATE_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1";

/** An awsvpc EC2 definition (no Fargate sizes, no Windows signs) with these containers. */
function ec2(containers: Json[], top: Json = {}): Json {
  return {
    family: "app",
    networkMode: "awsvpc",
    requiresCompatibilities: ["EC2"],
    memory: "512",
    containerDefinitions: containers.map((c, i) => ({ name: `c${i}`, image: "nginx:1.27", ...c })),
    ...top,
  };
}

const fargate = (containers: Json[], top: Json = {}): Json =>
  ec2(containers, { requiresCompatibilities: ["FARGATE"], cpu: "256", ...top });

function refusals(result: InjectResult): Refusal[] {
  if (result.outcome !== "refused") throw new Error("expected a refusal, got an injection");
  return result.refusals;
}

function injected(result: InjectResult): Injected {
  if (result.outcome !== "injected") throw new Error(`refused: ${JSON.stringify(result.refusals)}`);
  return result;
}

describe("network mode", () => {
  it.each([
    [{ networkMode: undefined }, "network mode is not set; Fargate requires awsvpc"],
    [
      { networkMode: "none" },
      "network mode is none: the task has no network, so there are no lookups to cache",
    ],
    [
      { networkMode: "host" },
      "network mode is host: the containers share the instance's network stack and its /etc/resolv.conf, so their cache is the instance's resolver configuration (point it at the node cache, infra/node-cache.yaml), not the task definition",
    ],
  ])("a Fargate definition with %j is refused, saying why", (top, message) => {
    expect(refusals(inject(fargate([{}], top)))).toEqual([
      { reason: REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC, message },
    ]);
  });

  it("the sidecar rules refuse bridge and point at the node cache, the bridge path's answer", () => {
    const definition = ec2([{}], { networkMode: "bridge" }) as unknown as TaskDefinitionInput;
    expect(checkPlatform(definition)).toEqual([
      {
        reason: REFUSAL_REASONS.NETWORK_MODE_NOT_AWSVPC,
        message: "network mode is bridge; dns-cache handles awsvpc (a sidecar) and bridge (the node cache)",
      },
    ]);
  });
});

describe("Windows definitions without a runtimePlatform", () => {
  const linuxOnly = "the cache sidecar runs on Linux only";

  it.each([
    [{ image: "windows/app:1" }, `container "c0" runs a Windows image (windows/app:1); ${linuxOnly}`],
    [
      { image: "mcr.microsoft.com/dotnet/framework/aspnet:4.8" },
      `container "c0" runs a Windows image (mcr.microsoft.com/dotnet/framework/aspnet:4.8); ${linuxOnly}`,
    ],
    [
      { entryPoint: ["powershell", "-File", "start.ps1"] },
      `container "c0" starts powershell, a Windows program; ${linuxOnly}`,
    ],
    [
      { command: ["C:\\app\\server.exe"] },
      `container "c0" starts C:\\app\\server.exe, a Windows program; ${linuxOnly}`,
    ],
    [{ workingDirectory: "C:\\inetpub" }, `container "c0" uses the Windows path C:\\inetpub; ${linuxOnly}`],
  ])("%j: WINDOWS_PLATFORM naming the container and the sign", (fields, message) => {
    expect(refusals(inject(ec2([fields])))).toEqual([{ reason: REFUSAL_REASONS.WINDOWS_PLATFORM, message }]);
  });

  it("an FSx for Windows File Server volume gives the task away", () => {
    const definition = ec2([{}], {
      volumes: [
        { name: "data" },
        {
          name: "share",
          fsxWindowsFileServerVolumeConfiguration: { fileSystemId: "fs-0123", rootDirectory: "share" },
        },
      ],
    });
    expect(refusals(inject(definition))).toEqual([
      {
        reason: REFUSAL_REASONS.WINDOWS_PLATFORM,
        message: `volume "share" is an FSx for Windows File Server volume (Windows containers only); ${linuxOnly}`,
      },
    ]);
  });

  it.each([
    "windows/servercore:ltsc2022",
    "registry.example.com/windows/app:2",
    "mcr.microsoft.com/windows/nanoserver:ltsc2022",
    "microsoft/iis",
    "index.docker.io/microsoft/aspnet:4.8",
    "registry-1.docker.io/microsoft/iis:latest",
  ])("image %s is Windows", (image) => {
    expect(refusals(inject(ec2([{ image }]))).map((r) => r.reason)).toEqual([
      REFUSAL_REASONS.WINDOWS_PLATFORM,
    ]);
  });

  it.each([
    [{ image: "microsoft/powershell:7.4" }],
    [{ image: "microsoft/aspnetcore:2.0" }],
    [{ image: "microsoft/azure-cli:2.0" }],
    [{ image: "ghcr.io/acme/microsoft/iis-exporter:1" }],
    [{ image: "acme/windows-exporter:1" }],
    [{ entryPoint: ["/usr/local/bin/mycmd"] }],
    [{ command: ["cmd-runner", "--once"] }],
    [{ workingDirectory: "/srv/c:/logs" }],
  ])("%j is Linux", (fields) => {
    expect(inject(ec2([fields])).outcome).toBe("injected");
  });
});

describe("ports the cache takes", () => {
  const withPorts = (portMappings: Json[]) => ec2([{ portMappings }]);
  const portRefusal = (message: string) => [{ reason: REFUSAL_REASONS.PORT_CONFLICT, message }];

  it("an explicit health port is used, and checked, even with the health check off", () => {
    const options: InjectContext = { explicit: { healthCheck: false, healthPort: 9000 } };
    expect(injected(inject(withPorts([{ containerPort: 8080 }]), options)).healthPort).toBe(9000);
    expect(refusals(inject(withPorts([{ containerPort: 9000 }]), options))).toEqual(
      portRefusal('container "c0" declares port 9000, set as the health port'),
    );
    // Automatic and off: no port at all.
    expect(injected(inject(withPorts([]), { explicit: { healthCheck: false } })).healthPort).toBeNull();
  });

  it("the automatic health port skips the metrics port and the ports containers declare", () => {
    const metricsOnFirst: InjectContext = { explicit: { metricsPort: 18053 } };
    expect(injected(inject(withPorts([]), metricsOnFirst)).healthPort).toBe(18054);
    expect(injected(inject(withPorts([{ containerPortRange: "18053-18055" }]))).healthPort).toBe(18056);
    expect(refusals(inject(withPorts([{ containerPortRange: "18054-18060" }]), metricsOnFirst))).toEqual(
      portRefusal(
        "every health port dns-cache tries (18054, 18055, 18056, 18057, 18058, 18059, 18060) is declared by a container; set health-port",
      ),
    );
  });

  it("a metrics port a container declares is refused; hostPort 0 (any port) takes none", () => {
    expect(
      refusals(inject(withPorts([{ containerPort: 9153 }]), { explicit: { metricsPort: 9153 } })),
    ).toEqual(portRefusal('container "c0" declares port 9153, set as the metrics port'));
    expect(inject(withPorts([{ containerPort: 0, hostPort: 0 }])).outcome).toBe("injected");
  });
});

describe("memory: the situation and advice that, followed, injects", () => {
  const needs = "dns-cache needs 40 MiB";
  it.each([
    [
      "free memory is said, and the one container is lowered",
      ec2([{ memoryReservation: 500 }]),
      `the task has 512 MiB and its containers reserve 500 MiB; ${needs} (12 MiB free): lower container "c0"'s memoryReservation from 500 to 472 MiB, or raise the task memory to 540 MiB`,
    ],
    [
      "the largest reservation is lowered, the first of equals",
      ec2([{ memoryReservation: 100 }, { memoryReservation: 300 }, { memoryReservation: 300 }]),
      `the task has 512 MiB and its containers reserve 700 MiB; ${needs} (0 MiB free): lower container "c1"'s memoryReservation from 300 to 72 MiB, or raise the task memory to 740 MiB`,
    ],
    [
      "lowering to Docker's 6 MiB minimum is still advice",
      ec2([{ memoryReservation: 500 }, { memoryReservation: 466 }]),
      `the task has 512 MiB and its containers reserve 966 MiB; ${needs} (0 MiB free): lower container "c0"'s memoryReservation from 500 to 6 MiB, or raise the task memory to 1006 MiB`,
    ],
    [
      "a hard limit equal to the task's is no obstacle to lowering another container",
      ec2([{ memory: 512, memoryReservation: 100 }, { memoryReservation: 450 }]),
      `the task has 512 MiB and its containers reserve 550 MiB; ${needs} (0 MiB free): lower container "c1"'s memoryReservation from 450 to 372 MiB, or raise the task memory to 590 MiB`,
    ],
    [
      "no lowering when another container's hard limit would still be above the task's",
      ec2([{ memory: 1024, memoryReservation: 50 }, { memory: 500 }]),
      `the task has 512 MiB and its containers reserve 550 MiB; ${needs} (0 MiB free): raise the task memory to 1024 MiB`,
    ],
    [
      "no lowering when two hard limits are above the task's",
      ec2([{ memory: 600 }, { memory: 600, memoryReservation: 10 }]),
      `the task has 512 MiB and its containers reserve 610 MiB; ${needs} (0 MiB free): raise the task memory to 650 MiB`,
    ],
    [
      "reservations that fit exactly, with a hard limit above the task's: lower that limit",
      ec2([{ memory: 1024, memoryReservation: 472 }]),
      `container "c0" has a memory limit of 1024 MiB, above the task's 512 MiB, which ECS refuses: lower container "c0"'s memory from 1024 to 512 MiB, or raise the task memory to 1024 MiB`,
    ],
    [
      "reservations that fit, with two hard limits above the task's: only raising helps",
      ec2([
        { memory: 1024, memoryReservation: 100 },
        { memory: 1024, memoryReservation: 100 },
      ]),
      `container "c0" has a memory limit of 1024 MiB, above the task's 512 MiB, which ECS refuses: raise the task memory to 1024 MiB`,
    ],
    [
      "Fargate: the smallest memory of the task's cpu that fits, exactly",
      fargate([{ memoryReservation: 984 }]),
      `the task has 512 MiB and its containers reserve 984 MiB; ${needs} (0 MiB free): lower container "c0"'s memoryReservation from 984 to 472 MiB, or raise the task memory to 1024 MiB`,
    ],
    [
      "Fargate: never a smaller cpu than the task's",
      fargate([{ memoryReservation: 2100 }], { cpu: "1024", memory: "2048" }),
      `the task has 2048 MiB and its containers reserve 2100 MiB; ${needs} (0 MiB free): lower container "c0"'s memoryReservation from 2100 to 2008 MiB, or raise the task memory to 3072 MiB`,
    ],
    [
      "Fargate: the cpu too when its memory sizes stop below",
      fargate([{ memoryReservation: 3000 }]),
      `the task has 512 MiB and its containers reserve 3000 MiB; ${needs} (0 MiB free): lower container "c0"'s memoryReservation from 3000 to 472 MiB, or raise the task cpu to 512 and memory to 3072 MiB (a Fargate size)`,
    ],
    [
      "Fargate without a task cpu: the smallest size that fits",
      fargate([{ memoryReservation: 600 }], { cpu: undefined }),
      `the task has 512 MiB and its containers reserve 600 MiB; ${needs} (0 MiB free): lower container "c0"'s memoryReservation from 600 to 472 MiB, or raise the task cpu to 256 and memory to 1024 MiB (a Fargate size)`,
    ],
    [
      "Fargate: no raise beyond the largest Fargate size",
      fargate([{ memory: 200_000 }]),
      `the task has 512 MiB and its containers reserve 200000 MiB; ${needs} (0 MiB free): lower container "c0"'s memory from 200000 to 472 MiB`,
    ],
    [
      "no advice at all when neither change can work: the situation alone",
      fargate([{ memory: 200_000 }, { memory: 200_000 }]),
      `the task has 512 MiB and its containers reserve 400000 MiB; ${needs} (0 MiB free)`,
    ],
  ])("%s", (_, definition, message) => {
    expect(refusals(inject(definition))).toEqual([{ reason: REFUSAL_REASONS.INSUFFICIENT_MEMORY, message }]);
  });

  it("EC2 advice is any size, not a Fargate one", () => {
    const [refusal] = refusals(inject(ec2([{ memoryReservation: 700 }])));
    expect(refusal?.message).toMatch(/, or raise the task memory to 740 MiB$/);
  });

  it("accounts for the task, the containers and the sidecars; no task memory, no task figure", () => {
    const definition = ec2([{ memoryReservation: 100 }, { memory: 200 }]);
    expect(injected(inject(definition)).memory).toStrictEqual({ task: 512, containers: 300, added: 40 });
    const unsized = injected(inject(ec2([{ memoryReservation: 100 }], { memory: undefined })));
    expect(unsized.memory).toStrictEqual({ containers: 100, added: 40 });
  });
});

describe("check: warnings about what dns-cache cannot see", () => {
  const advisories = (definition: Json, context: InjectContext = {}) =>
    injected(inject(definition, context)).advisories;
  const onPrivateEcr = (top: Json = {}) => fargate([{ image: PRIVATE_IMAGE }], top);
  const ec2Agent =
    "on EC2 (and ECS Anywhere) container instances need ECS agent 1.86.0 or later for the cache's container restart policy";

  it("both images on ECR Public, every image in private ECR: one warning naming both", () => {
    expect(advisories(onPrivateEcr())).toEqual([
      "public.ecr.aws/eks-distro/coredns/coredns:v1.13.2-eks-1-36-1 and public.ecr.aws/docker/library/busybox:1.37.0-musl are on Amazon ECR Public, which has no VPC endpoint, and nothing in this definition shows internet access (all its images are in private ECR). dns-cache cannot see the task's subnets: if they have no NAT gateway or public IP, the task will not start because it cannot pull them. Deploy with the ECR pull-through cache (EcrPullThroughCache=on) or set coredns-image and init-image to a private mirror",
    ]);
  });

  it("one image on ECR Public is named alone, in the singular", () => {
    const mirrored: InjectContext = {
      explicit: { corednsImage: `${PRIVATE_IMAGE.replace(":1", "")}/coredns:1` },
    };
    const [warning] = advisories(onPrivateEcr(), mirrored) ?? [];
    expect(warning).toMatch(
      /^public\.ecr\.aws\/docker\/library\/busybox:1\.37\.0-musl is on Amazon ECR Public/,
    );
    expect(warning).toContain("the task will not start because it cannot pull it. Deploy");
  });

  it.each([
    ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", true],
    ["123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:1", true],
    ["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1", true],
    ["12345.dkr.ecr.eu-west-1.amazonaws.com/app:1", false],
    ["mirror.example.com/123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", false],
    ["public.ecr.aws/nginx/nginx:1", false],
  ])("an app image %s is in private ECR (so the ECR Public warning shows): %s", (image, privateEcr) => {
    expect(advisories(fargate([{ image }]))).toHaveLength(privateEcr ? 1 : 0);
  });

  it("one container pulling from another registry shows internet access: no warning", () => {
    const mixed = fargate([{ image: PRIVATE_IMAGE }, { image: "nginx:1.27" }]);
    expect(advisories(mixed)).toEqual([]);
  });

  it.each([
    [["EC2"], [ec2Agent]],
    [["EXTERNAL"], [ec2Agent]],
    [undefined, [ec2Agent]],
    [["FARGATE"], []],
  ])(
    "requiresCompatibilities %j: the EC2 agent warning when the task may run on instances",
    (compat, expected) => {
      expect(advisories(ec2([{}], { requiresCompatibilities: compat }))).toEqual(expected);
    },
  );

  it.each([
    ["1.3.0", true],
    [" 1.0.0 ", true],
    ["0.9.0", true],
    ["1.3.10", true],
    ["1.4.0", false],
    ["1.10.0", false],
    ["2.0.0", false],
    ["LATEST", false],
    ["v1.3.0", false],
    ["1.3.0.1", false],
  ])("platformVersion %j warns: %s", (platformVersion, warns) => {
    const warnings = advisories(fargate([{}], { platformVersion })) ?? [];
    const expected = `platformVersion ${platformVersion}: the cache's container restart policy and the shared, writable /etc/resolv.conf need Fargate platform 1.4.0 or later`;
    expect(warnings).toEqual(warns ? [expected] : []);
  });
});
