import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import { type Env, readRequired } from "#shared/runtime/env.ts";

/** The session name the injector uses when it assumes a member account's role. */
export const INJECTOR_SESSION_NAME = "dns-cache-injector";
/** The session name the health function uses when it assumes a member account's role. */
export const HEALTH_SESSION_NAME = "dns-cache-health";
/** The session name the enforcer uses when it assumes a member account's role. */
export const ENFORCER_SESSION_NAME = "dns-cache-enforcer";

export interface Target {
  account: string;
  region: string;
}
export type CredentialsProvider = () => Promise<AwsCredentialIdentity>;
type ClientFactory<C> = (region: string | undefined, credentials?: CredentialsProvider) => C;

const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/** The partition of a region: role ARNs in China, GovCloud and the ISO regions are not `arn:aws:…`. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("us-iso-")) return "aws-iso";
  if (region.startsWith("eu-isoe-")) return "aws-iso-e";
  if (region.startsWith("us-isof-")) return "aws-iso-f";
  return "aws";
}

/**
 * Temporary credentials of a member account's role, one AssumeRole per account until shortly before
 * they expire. `sts` is a parameter so tests can mock it.
 */
export function memberCredentials(
  sts: STSClient,
  roleName: string,
  sessionName: string,
  now: () => number = Date.now,
) {
  const cache = new Map<string, Promise<AwsCredentialIdentity>>();
  const fresh = (c: AwsCredentialIdentity) =>
    c.expiration === undefined || c.expiration.getTime() - now() > REFRESH_BEFORE_EXPIRY_MS;
  const assume = async (account: string, partition: string): Promise<AwsCredentialIdentity> => {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:${partition}:iam::${account}:role/${roleName}`,
        RoleSessionName: sessionName,
        DurationSeconds: 3600,
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      throw new Error(`AssumeRole into ${account} returned no credentials`);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  };
  return (account: string, partition = "aws"): CredentialsProvider =>
    async () => {
      const cached = cache.get(account);
      if (cached) {
        const c = await cached.catch(() => undefined);
        if (c && fresh(c)) return c;
      }
      const next = assume(account, partition);
      cache.set(account, next);
      next.catch(() => cache.delete(account));
      return next;
    };
}

/**
 * Single-account mode (no DNS_CACHE_MEMBER_ROLE_NAME): one client in the function's own region with its
 * own role, and no role is ever assumed. Organisation mode: a client per account and region; events
 * from the central account itself use the function's role.
 */
export function clientProvider<C>(
  env: Env,
  factory: ClientFactory<C>,
  sts?: STSClient,
  sessionName: string = INJECTOR_SESSION_NAME,
): (target: Target) => C {
  const roleName = env.DNS_CACHE_MEMBER_ROLE_NAME?.trim();
  if (!roleName) {
    const single = factory(undefined);
    return () => single;
  }
  const central = readRequired(env, "DNS_CACHE_CENTRAL_ACCOUNT");
  const credentialsFor = memberCredentials(sts ?? new STSClient({}), roleName, sessionName);
  const clients = new Map<string, C>();
  return ({ account, region }) => {
    const key = `${account}/${region}`;
    let client = clients.get(key);
    if (!client) {
      client =
        account === central ? factory(region) : factory(region, credentialsFor(account, partitionOf(region)));
      clients.set(key, client);
    }
    return client;
  };
}
