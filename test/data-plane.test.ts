/**
 * The data plane's contract in the injected definition (issue 10): a probe zone the cache answers itself,
 * correct answers before stale ones, images that can always be pulled, and the platform's minimums said.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROBE_NAME, PROBE_ZONE, renderCorefile } from "#shared/engine/corefile.ts";
import { type Injected, type InjectResult, inject } from "#shared/engine/inject.ts";
import { DEFAULT_OPTIONS } from "#shared/engine/options.ts";
import { ecrRegistry, throughMirror } from "#shared/engine/sidecars.ts";
import type { TaskDefinitionInput } from "#shared/engine/task-definition.ts";
import { fargateApp } from "./helpers/fixtures.ts";

function injected(result: InjectResult): Injected {
  if (result.outcome !== "injected") throw new Error(`refused: ${JSON.stringify(result.refusals)}`);
  return result;
}

function images(result: Injected): Record<string, string | undefined> {
  return Object.fromEntries(result.definition.containerDefinitions.map((c) => [c.name, c.image]));
}

const MIRROR = { registry: ecrRegistry("111122223333", "eu-west-1"), prefix: "dns-cache-ecr-public" };
const DIGEST = `sha256:${"a1".repeat(32)}`;

describe("the Corefile", () => {
  const corefile = renderCorefile({ ...DEFAULT_OPTIONS, healthPort: 18053 }, "10.0.0.2");

  it("answers the probe name itself, in the same server block, after the cache and before forward", () => {
    const block = corefile.split("\n");
    const at = (re: RegExp) => block.findIndex((l) => re.test(l));
    expect(at(/^ {2}template IN A dns-cache\.invalid \{$/)).toBeGreaterThan(at(/^ {2}cache \{$/));
    expect(at(/^ {2}template IN A/)).toBeLessThan(at(/^ {2}forward \. /));
    expect(corefile).toContain('    answer "{{ .Name }} 60 IN A 127.0.0.1"\n');
    expect(PROBE_NAME.endsWith(`.${PROBE_ZONE}`)).toBe(true);
    // One server block: the probe goes through the listener and plugins the app's queries use.
    expect(corefile.match(/^\S.*\{$/gm)).toEqual([".:53 {"]);
  });

  it("serves stale answers only when the upstream fails (verify), and keeps prefetch", () => {
    expect(corefile).toContain("    serve_stale 1h verify\n");
    expect(corefile).toContain("    prefetch 2 1m 10%\n");
    expect(corefile).toContain(`    success ${DEFAULT_OPTIONS.cacheSuccessCapacity} 300\n`);
  });
});

describe("images through an ECR pull-through cache", () => {
  it("writes the default images through the task account's private registry", () => {
    const result = injected(inject(fargateApp(), { imageMirror: MIRROR }));
    expect(images(result)).toMatchObject({
      "dns-cache":
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com/dns-cache-ecr-public/eks-distro/coredns/coredns:v1.13.2-eks-1-36-1",
      "dns-cache-init":
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com/dns-cache-ecr-public/docker/library/busybox:1.37.0-musl",
    });
    // Nothing is left on ECR Public, so nothing to warn about.
    expect(result.advisories).toEqual([]);
  });

  it("keeps a digest pin, and leaves images from other registries alone", () => {
    const pinned = fargateApp({
      tags: [
        { key: "dns-cache", value: "enabled" },
        { key: "dns-cache:coredns-image", value: `public.ecr.aws/eks-distro/coredns/coredns@${DIGEST}` },
        { key: "dns-cache:init-image", value: `registry.example.com/busybox@${DIGEST}` },
      ],
    });
    const result = injected(inject(pinned, { imageMirror: MIRROR }));
    expect(images(result)["dns-cache"]).toBe(
      `${MIRROR.registry}/dns-cache-ecr-public/eks-distro/coredns/coredns@${DIGEST}`,
    );
    expect(images(result)["dns-cache-init"]).toBe(`registry.example.com/busybox@${DIGEST}`);
    expect(result.optionSources["coredns-image"]).toBe("tag");
  });

  it("rewrites exactly the ECR Public images, keeping repository and tag or digest", () => {
    const path = fc.stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*){0,3}$/);
    const ref = fc.oneof(fc.constant(""), fc.constant(":1.2.3"), fc.constant(`@${DIGEST}`));
    const registry = fc.constantFrom(
      "public.ecr.aws/",
      "docker.io/",
      "",
      "ghcr.io/",
      "public.ecr.aws.example.com/",
    );
    fc.assert(
      fc.property(registry, path, ref, (reg, repo, suffix) => {
        const image = `${reg}${repo}${suffix}`;
        const out = throughMirror(image, MIRROR);
        if (reg === "public.ecr.aws/")
          expect(out).toBe(`${MIRROR.registry}/${MIRROR.prefix}/${repo}${suffix}`);
        else expect(out).toBe(image);
        expect(throughMirror(image, undefined)).toBe(image);
      }),
    );
  });

  it("names the China partition's registry host", () => {
    expect(ecrRegistry("111122223333", "cn-north-1")).toBe(
      "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn",
    );
  });
});

describe("check: what dns-cache cannot see", () => {
  const warnings = (definition: TaskDefinitionInput) => injected(inject(definition)).advisories ?? [];

  it("warns about ECR Public when every image of the task is in private ECR, and says it cannot see subnets", () => {
    const [w, ...rest] = warnings(fargateApp());
    expect(rest).toEqual([]);
    expect(w).toMatch(/Amazon ECR Public, which has no VPC endpoint/);
    expect(w).toMatch(/cannot see the task's subnets/);
    expect(w).toMatch(/EcrPullThroughCache|private mirror/);
  });

  it("does not warn when an image already comes from the internet (Docker Hub, another registry)", () => {
    for (const image of ["nginx:1.27", "ghcr.io/org/app:1", "public.ecr.aws/nginx/nginx:1"]) {
      const def = fargateApp();
      const [app] = def.containerDefinitions;
      if (app) app.image = image;
      expect(warnings(def), image).toEqual([]);
    }
  });

  it("says what EC2 needs, and what an old Fargate platform version lacks", () => {
    const ec2 = fargateApp({ requiresCompatibilities: ["EC2"] });
    const [app] = ec2.containerDefinitions;
    if (app) app.image = "nginx:1.27";
    expect(warnings(ec2)).toEqual([
      expect.stringMatching(/ECS agent 1\.86\.0 or later for the cache's container restart policy/),
    ]);
    const old = { ...fargateApp(), platformVersion: "1.3.0" } as TaskDefinitionInput;
    expect(warnings(old).join("\n")).toMatch(/platformVersion 1\.3\.0: .*Fargate platform 1\.4\.0 or later/);
    for (const platformVersion of ["1.4.0", "LATEST"]) {
      const recent = { ...fargateApp(), platformVersion } as TaskDefinitionInput;
      expect(warnings(recent).join("\n")).not.toMatch(/platformVersion/);
    }
  });
});
