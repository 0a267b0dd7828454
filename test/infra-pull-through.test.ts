/** The SAM stack's ECR pull-through cache for ECR Public, against the engine's default images. */
import { describe, expect, it } from "vitest";
import { DEFAULT_OPTIONS } from "#shared/engine/options.ts";
import { ECR_PUBLIC } from "#shared/engine/sidecars.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import { isObject, loadTemplate, type Pseudo, resolveTemplate } from "./support/cfn-yaml.ts";

const template = loadTemplate(new URL("../infra/template.yaml", import.meta.url));
const PSEUDO: Pseudo = {
  account: "111111111111",
  region: "eu-west-1",
  partition: "aws",
  stackName: "dns-cache",
};

function injectorEnv(params: Record<string, string>): Record<string, string> {
  const r = resolveTemplate(template, params, PSEUDO);
  const env = r.resources.InjectorFunction?.Properties.Environment;
  const vars = isObject(env) && isObject(env.Variables) ? env.Variables : {};
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]));
}

/** The repository a pull-through cache stores an ECR Public image in: prefix + the upstream path. */
function cachedRepository(prefix: string, image: string): string {
  return `${prefix}/${image.slice(ECR_PUBLIC.length).replace(/[:@].*$/, "")}`;
}

describe("the ECR pull-through cache (EcrPullThroughCache)", () => {
  it("is on by default: a rule for ECR Public, and the injector writes images through its prefix", () => {
    const r = resolveTemplate(template, {}, PSEUDO);
    expect(r.resources.EcrPublicPullThroughCacheRule).toEqual({
      Type: "AWS::ECR::PullThroughCacheRule",
      Properties: {
        EcrRepositoryPrefix: "dns-cache-ecr-public",
        UpstreamRegistry: "ecr-public",
        UpstreamRegistryUrl: "public.ecr.aws",
      },
    });
    const config = loadInjectorConfig(injectorEnv({}));
    expect(config.pullThrough).toEqual({ prefix: "dns-cache-ecr-public" });
  });

  it("creates the default images' cache repositories, so the first pull needs only the import grant", () => {
    const r = resolveTemplate(template, { EcrPullThroughPrefix: "mirror/public" }, PSEUDO);
    const repositories = Object.values(r.resources).filter((res) => res.Type === "AWS::ECR::Repository");
    expect(repositories.map((res) => res.Properties.RepositoryName).sort()).toEqual(
      [DEFAULT_OPTIONS.corednsImage, DEFAULT_OPTIONS.initImage]
        .map((i) => cachedRepository("mirror/public", i))
        .sort(),
    );
    for (const repository of repositories) {
      expect(repository.Properties.EmptyOnDelete).toBe(true);
      const policy = repository.Properties.RepositoryPolicyText;
      const [statement, ...more] =
        isObject(policy) && Array.isArray(policy.Statement) ? policy.Statement : [];
      expect(more).toEqual([]);
      expect(statement).toMatchObject({
        Effect: "Allow",
        Action: expect.arrayContaining(["ecr:BatchImportUpstreamImage", "ecr:BatchGetImage"]),
        // This account's principals only.
        Condition: { StringEquals: { "aws:PrincipalAccount": PSEUDO.account } },
      });
      expect(JSON.stringify(statement)).not.toMatch(/ecr:\*|CreateRepository|Put|Delete/);
    }
  });

  it("off: no rule, no repositories, ECR Public images as they are", () => {
    const r = resolveTemplate(template, { EcrPullThroughCache: "off" }, PSEUDO);
    expect(Object.values(r.resources).filter((res) => res.Type.startsWith("AWS::ECR::"))).toEqual([]);
    expect(injectorEnv({ EcrPullThroughCache: "off" })).not.toHaveProperty(
      "DNS_CACHE_ECR_PULL_THROUGH_PREFIX",
    );
    expect(loadInjectorConfig(injectorEnv({ EcrPullThroughCache: "off" })).pullThrough).toBeUndefined();
  });

  it("rejects a prefix ECR would reject, before deploying", () => {
    for (const bad of ["A", "x", "ends/", "-lead", "a".repeat(31)]) {
      expect(() => resolveTemplate(template, { EcrPullThroughPrefix: bad }, PSEUDO), bad).toThrow(
        /EcrPullThroughPrefix/,
      );
    }
  });
});
