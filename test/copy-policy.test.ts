/** The injector and the enforcer make copies through one path: from one deployment they must make the same copy. */
import { describe, expect, it } from "vitest";
import { readCopySettings } from "#shared/copies/policy.ts";
import { loadEnforcerConfig } from "#shared/enforcer/config.ts";
import { policyOf } from "#shared/enforcer/judge.ts";
import { InvalidOptionError } from "#shared/engine/errors.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import { copyPolicy } from "#shared/injector/flow.ts";
import { ConfigError } from "#shared/runtime/env.ts";

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

describe("reading the copy settings", () => {
  const read = (env: Record<string, string>) => readCopySettings(env);

  it("refuses an opt-out tag equal to the opt-in tag, naming the variable; any other pair is fine", () => {
    expect(() => read({ DNS_CACHE_OPT_OUT_TAG: "dns-cache=enabled" })).toThrow(
      new ConfigError("DNS_CACHE_OPT_OUT_TAG", "is the same tag as DNS_CACHE_OPT_IN_TAG"),
    );
    expect(() => read({ DNS_CACHE_OPT_OUT_TAG: "dns-cache=enabled" })).toThrow(
      /^DNS_CACHE_OPT_OUT_TAG: is the same tag as DNS_CACHE_OPT_IN_TAG$/,
    );
    expect(() => read({ DNS_CACHE_OPT_OUT_TAG: "novalue" })).toThrow(
      /^DNS_CACHE_OPT_OUT_TAG: expected key=value/,
    );
    expect(() => read({ DNS_CACHE_OPT_IN_TAG: "novalue" })).toThrow(
      /^DNS_CACHE_OPT_IN_TAG: expected key=value/,
    );
    // Same value under another key, or another value under the same key: two different tags.
    expect(read({ DNS_CACHE_OPT_IN_TAG: "a=x", DNS_CACHE_OPT_OUT_TAG: "b=x" })).toMatchObject({
      optIn: { key: "a", value: "x" },
      optOut: { key: "b", value: "x" },
    });
    expect(read({})).toMatchObject({
      scope: "tag",
      optIn: { key: "dns-cache", value: "enabled" },
      optOut: { key: "dns-cache", value: "disabled" },
    });
  });

  it("reports a bad engine option as a config error on its variable, keeping the engine's error as cause", () => {
    let error: unknown;
    try {
      read({ DNS_CACHE_FALLBACK: "sometimes" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      variable: "DNS_CACHE_FALLBACK",
      message: 'DNS_CACHE_FALLBACK: expected on or off, got "sometimes"',
    });
    expect((error as Error).cause).toBeInstanceOf(InvalidOptionError);
  });

  it.each(["ab", "dns-cache-ecr-public", "a.b_c-d/e", "team/ecr-public", "a1/b2/c-3", "a".repeat(30)])(
    "accepts the ECR repository prefix %s",
    (prefix) => {
      expect(read({ DNS_CACHE_ECR_PULL_THROUGH_PREFIX: prefix }).pullThrough).toStrictEqual({ prefix });
    },
  );

  it.each(["a", "a".repeat(31), "-ab", "ab-", "a..b", "a//b", "/ab", "ab/", "Ab", "a b", "x/-y", "x/y-"])(
    "refuses the ECR repository prefix %j, quoting it",
    (prefix) => {
      expect(() => read({ DNS_CACHE_ECR_PULL_THROUGH_PREFIX: prefix })).toThrow(
        `DNS_CACHE_ECR_PULL_THROUGH_PREFIX: "${prefix}" is not an ECR repository prefix`,
      );
    },
  );

  it("trims the pull-through settings, and takes blank ones as unset", () => {
    const base = { DNS_CACHE_ECR_PULL_THROUGH_PREFIX: "  dns-cache-ecr-public \n" };
    expect(read(base).pullThrough).toStrictEqual({ prefix: "dns-cache-ecr-public" });
    expect(read({ DNS_CACHE_ECR_PULL_THROUGH_PREFIX: "   " }).pullThrough).toBeUndefined();
    expect(
      read({
        ...base,
        DNS_CACHE_MEMBER_ROLE_NAME: " dns-cache-member ",
        DNS_CACHE_CENTRAL_ACCOUNT: " 111122223333 ",
        AWS_REGION: " eu-west-1 ",
      }).pullThrough,
    ).toStrictEqual({ prefix: "dns-cache-ecr-public", onlyAccount: "111122223333", onlyRegion: "eu-west-1" });
  });

  it("limits the pull-through cache to the central account only in organisation mode (member role and central account)", () => {
    const base = { DNS_CACHE_ECR_PULL_THROUGH_PREFIX: "dns-cache-ecr-public", AWS_REGION: "eu-west-1" };
    const single = { prefix: "dns-cache-ecr-public" };
    expect(read({ ...base, DNS_CACHE_MEMBER_ROLE_NAME: "dns-cache-member" }).pullThrough).toStrictEqual(
      single,
    );
    expect(read({ ...base, DNS_CACHE_CENTRAL_ACCOUNT: "111122223333" }).pullThrough).toStrictEqual(single);
    expect(
      read({ ...base, DNS_CACHE_MEMBER_ROLE_NAME: "  ", DNS_CACHE_CENTRAL_ACCOUNT: "111122223333" })
        .pullThrough,
    ).toStrictEqual(single);
    expect(
      read({ ...base, DNS_CACHE_MEMBER_ROLE_NAME: "dns-cache-member", DNS_CACHE_CENTRAL_ACCOUNT: "  " })
        .pullThrough,
    ).toStrictEqual(single);
    // Without a region, the central account's every region.
    expect(
      read({
        DNS_CACHE_ECR_PULL_THROUGH_PREFIX: "p1",
        DNS_CACHE_MEMBER_ROLE_NAME: "dns-cache-member",
        DNS_CACHE_CENTRAL_ACCOUNT: "111122223333",
      }).pullThrough,
    ).toStrictEqual({ prefix: "p1", onlyAccount: "111122223333" });
  });
});
