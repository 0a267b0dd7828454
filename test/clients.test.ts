import { DescribeTasksCommand, ECSClient } from "@aws-sdk/client-ecs";
import { AssumeRoleCommand, type AssumeRoleCommandInput, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import "aws-sdk-client-mock-vitest/extend";
import {
  type CredentialsProvider,
  clientProvider,
  HEALTH_SESSION_NAME,
  INJECTOR_SESSION_NAME,
  memberCredentials,
  partitionOf,
} from "#shared/aws/clients.ts";
import { ConfigError } from "#shared/runtime/env.ts";

const CENTRAL = "111111111111";
const MEMBER = "222222222222";
const OTHER = "333333333333";
const ORG_ENV = { DNS_CACHE_MEMBER_ROLE_NAME: "dns-cache-member", DNS_CACHE_CENTRAL_ACCOUNT: CENTRAL };
const HOUR = 3_600_000;

const sts = mockClient(STSClient);
const ecs = mockClient(ECSClient);
// The provider-level tests run on the real clock (clientProvider uses Date.now); memberCredentials gets this one.
let clock = Date.now();
let issued = 0;

/** AssumeRole answers: keys naming the account and the issue number, valid for an hour from the clock. */
function answerAssumeRole(): void {
  sts.on(AssumeRoleCommand).callsFake((input: AssumeRoleCommandInput) => {
    issued += 1;
    const account = /::(\d{12}):role\//.exec(input.RoleArn ?? "")?.[1];
    return {
      Credentials: {
        AccessKeyId: `ASIA${account}-${issued}`,
        SecretAccessKey: "secret",
        SessionToken: "token",
        Expiration: new Date(clock + HOUR),
      },
    };
  });
}

beforeEach(() => {
  sts.reset();
  ecs.reset();
  issued = 0;
  clock = Date.now();
  answerAssumeRole();
});
afterEach(() => {
  sts.reset();
  ecs.reset();
});

/** A factory that records what it was asked for and makes real ECS clients. */
function recordingFactory() {
  const made: Array<{ region: string | undefined; credentials: CredentialsProvider | undefined }> = [];
  const factory = (region: string | undefined, credentials?: CredentialsProvider) => {
    made.push({ region, credentials });
    return new ECSClient({
      ...(region ? { region } : { region: "us-east-1" }),
      ...(credentials ? { credentials } : {}),
    });
  };
  return { made, factory };
}

describe("single-account mode", () => {
  it.each([
    ["no settings", {}],
    ["a central account but no member role", { DNS_CACHE_CENTRAL_ACCOUNT: CENTRAL }],
    ["an empty member role", { DNS_CACHE_MEMBER_ROLE_NAME: "  ", DNS_CACHE_CENTRAL_ACCOUNT: CENTRAL }],
  ])(
    "with %s: one client with the function's own credentials, for every account; never STS",
    async (_, env) => {
      const { made, factory } = recordingFactory();
      const ecsFor = clientProvider(env, factory, new STSClient({ region: "us-east-1" }));
      const a = ecsFor({ account: CENTRAL, region: "us-east-1" });
      const b = ecsFor({ account: MEMBER, region: "eu-west-1" });
      expect(a).toBe(b);
      expect(made).toEqual([{ region: undefined, credentials: undefined }]);
      await a.send(new DescribeTasksCommand({ cluster: "prod", tasks: ["t"] }));
      expect(ecs).toHaveReceivedCommandTimes(DescribeTasksCommand, 1);
      expect(sts).not.toHaveReceivedAnyCommand();
    },
  );
});

describe("organisation mode", () => {
  it("assumes the member role of the event's account, with the injector's session name, in the event's region", async () => {
    const { made, factory } = recordingFactory();
    const ecsFor = clientProvider(ORG_ENV, factory, new STSClient({ region: "us-east-1" }));
    const client = ecsFor({ account: MEMBER, region: "eu-west-1" });
    expect(made).toHaveLength(1);
    expect(made[0]?.region).toBe("eu-west-1");
    expect(made[0]?.credentials).toBeTypeOf("function");
    expect(sts).not.toHaveReceivedAnyCommand(); // credentials are fetched when first needed

    const credentials = await client.config.credentials();
    expect(credentials.accessKeyId).toBe(`ASIA${MEMBER}-1`);
    expect(await client.config.region()).toBe("eu-west-1");
    expect(sts).toHaveReceivedCommandExactlyOnceWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${MEMBER}:role/dns-cache-member`,
      RoleSessionName: INJECTOR_SESSION_NAME,
      DurationSeconds: 3600,
    });
    expect(INJECTOR_SESSION_NAME).toBe("dns-cache-injector");

    await client.send(new DescribeTasksCommand({ cluster: "prod", tasks: ["t"] }));
    expect(ecs).toHaveReceivedCommandTimes(DescribeTasksCommand, 1);
  });

  it("uses the health function's session name when asked", async () => {
    const { factory } = recordingFactory();
    const ecsFor = clientProvider(
      ORG_ENV,
      factory,
      new STSClient({ region: "us-east-1" }),
      HEALTH_SESSION_NAME,
    );
    await ecsFor({ account: MEMBER, region: "eu-west-1" }).config.credentials();
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleSessionName: "dns-cache-health" });
  });

  it("keeps one client per account and region, and one set of credentials per account", async () => {
    const { made, factory } = recordingFactory();
    const ecsFor = clientProvider(ORG_ENV, factory, new STSClient({ region: "us-east-1" }));
    const west = ecsFor({ account: MEMBER, region: "eu-west-1" });
    expect(ecsFor({ account: MEMBER, region: "eu-west-1" })).toBe(west);
    const east = ecsFor({ account: MEMBER, region: "us-east-1" });
    const other = ecsFor({ account: OTHER, region: "eu-west-1" });
    expect(new Set([west, east, other]).size).toBe(3);
    expect(made.map((m) => m.region)).toEqual(["eu-west-1", "us-east-1", "eu-west-1"]);

    expect((await west.config.credentials()).accessKeyId).toBe((await east.config.credentials()).accessKeyId);
    await other.config.credentials();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(sts).toHaveReceivedNthCommandWith(AssumeRoleCommand, 1, {
      RoleArn: `arn:aws:iam::${MEMBER}:role/dns-cache-member`,
    });
    expect(sts).toHaveReceivedNthCommandWith(AssumeRoleCommand, 2, {
      RoleArn: `arn:aws:iam::${OTHER}:role/dns-cache-member`,
    });
  });

  it("uses the function's own role for the central account's events, in any region", async () => {
    const { made, factory } = recordingFactory();
    const ecsFor = clientProvider(ORG_ENV, factory, new STSClient({ region: "us-east-1" }));
    const client = ecsFor({ account: CENTRAL, region: "eu-central-1" });
    expect(made).toEqual([{ region: "eu-central-1", credentials: undefined }]);
    await client.send(new DescribeTasksCommand({ cluster: "prod", tasks: ["t"] }));
    expect(sts).not.toHaveReceivedAnyCommand();
  });

  it("builds the role ARN in the region's partition", async () => {
    const { factory } = recordingFactory();
    const ecsFor = clientProvider(ORG_ENV, factory, new STSClient({ region: "us-east-1" }));
    await ecsFor({ account: MEMBER, region: "cn-north-1" }).config.credentials();
    await ecsFor({ account: OTHER, region: "us-gov-west-1" }).config.credentials();
    expect(sts).toHaveReceivedNthCommandWith(AssumeRoleCommand, 1, {
      RoleArn: `arn:aws-cn:iam::${MEMBER}:role/dns-cache-member`,
    });
    expect(sts).toHaveReceivedNthCommandWith(AssumeRoleCommand, 2, {
      RoleArn: `arn:aws-us-gov:iam::${OTHER}:role/dns-cache-member`,
    });
    expect(
      ["eu-west-1", "cn-northwest-1", "us-gov-east-1", "us-iso-east-1", "us-isob-east-1"].map(partitionOf),
    ).toEqual(["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"]);
  });

  it("needs the central account", () => {
    const { factory } = recordingFactory();
    expect(() => clientProvider({ DNS_CACHE_MEMBER_ROLE_NAME: "dns-cache-member" }, factory)).toThrow(
      ConfigError,
    );
    expect(() => clientProvider({ DNS_CACHE_MEMBER_ROLE_NAME: "dns-cache-member" }, factory)).toThrow(
      /DNS_CACHE_CENTRAL_ACCOUNT/,
    );
  });
});

describe("member credentials", () => {
  const credentialsFor = () =>
    memberCredentials(
      new STSClient({ region: "us-east-1" }),
      "dns-cache-member",
      INJECTOR_SESSION_NAME,
      () => clock,
    );

  it("are cached until five minutes before they expire", async () => {
    const forMember = credentialsFor()(MEMBER);
    const first = await forMember();
    expect(first.expiration?.getTime()).toBe(clock + HOUR);
    const start = clock;
    clock = start + 54 * 60_000;
    expect(await forMember()).toBe(first);
    clock = start + 55 * 60_000 + 1;
    const second = await forMember();
    expect(second.accessKeyId).toBe(`ASIA${MEMBER}-2`);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    clock += 10 * 60_000;
    expect(await forMember()).toBe(second);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it("are shared by every provider of one account, and asked for once when asked at once", async () => {
    const provider = credentialsFor();
    const results = await Promise.all([provider(MEMBER)(), provider(MEMBER)(), provider(MEMBER)()]);
    expect(new Set(results.map((c) => c.accessKeyId)).size).toBe(1);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
  });

  it("are not cached when AssumeRole fails: the next call tries again", async () => {
    sts.reset();
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(new Error("AccessDenied"))
      .callsFake(() => {
        issued += 1;
        return {
          Credentials: {
            AccessKeyId: `ASIA-${issued}`,
            SecretAccessKey: "s",
            SessionToken: "t",
            Expiration: new Date(clock + HOUR),
          },
        };
      });
    const forMember = credentialsFor()(MEMBER);
    await expect(forMember()).rejects.toThrow("AccessDenied");
    expect((await forMember()).accessKeyId).toBe("ASIA-1");
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it("refuse an answer without credentials", async () => {
    sts.reset();
    sts.on(AssumeRoleCommand).resolves({});
    await expect(credentialsFor()(MEMBER)()).rejects.toThrow(/returned no credentials/);
  });
});
