/** The injector and the enforcer make copies through one path: from one deployment they must make the same copy. */
import { describe, expect, it } from "vitest";
import { loadEnforcerConfig } from "#shared/enforcer/config.ts";
import { policyOf } from "#shared/enforcer/judge.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import { copyPolicy } from "#shared/injector/flow.ts";

const central = { account: "111111111111", region: "eu-west-1" };
const member = { account: "222222222222", region: "eu-west-1" };

function policies(env: Record<string, string>, target: { account: string; region: string }) {
  const common = { DNS_CACHE_IDEMPOTENCY_TABLE: "guard", ...env };
  return {
    injector: copyPolicy(loadInjectorConfig({ ...common, DNS_CACHE_MODE: "inject" }), target),
    enforcer: policyOf(loadEnforcerConfig({ ...common, DNS_CACHE_MODE: "enforce" }), target),
  };
}

describe("the copy policy of the injector and the enforcer", () => {
  it("is the same policy, pull-through mirror included (single account)", () => {
    const { injector, enforcer } = policies(
      { DNS_CACHE_ECR_PULL_THROUGH_PREFIX: "dns-cache-ecr-public", DNS_CACHE_UPSTREAM: "10.0.0.2" },
      central,
    );
    expect(injector.imageMirror).toEqual({
      registry: "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
      prefix: "dns-cache-ecr-public",
    });
    expect(enforcer).toEqual(injector);
  });

  it("mirrors only where the stack made the rule (organisation mode: the central account and region)", () => {
    const org = {
      DNS_CACHE_ECR_PULL_THROUGH_PREFIX: "dns-cache-ecr-public",
      DNS_CACHE_MEMBER_ROLE_NAME: "dns-cache-member",
      DNS_CACHE_CENTRAL_ACCOUNT: central.account,
      AWS_REGION: central.region,
    };
    expect(policies(org, central).enforcer.imageMirror?.registry).toBe(
      "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
    );
    for (const target of [member, { ...central, region: "us-east-1" }]) {
      const { injector, enforcer } = policies(org, target);
      expect(injector.imageMirror).toBeUndefined();
      expect(enforcer.imageMirror).toBeUndefined();
    }
  });

  it("has no mirror when the deployment sets none", () => {
    const { injector, enforcer } = policies({}, central);
    expect(injector.imageMirror).toBeUndefined();
    expect(enforcer.imageMirror).toBeUndefined();
  });
});
