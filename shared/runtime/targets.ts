/** Which accounts and regions a sweep covers: its own, a listed set, or every ACTIVE account of the organisation. */
import type { Env } from "./env.ts";
import { ConfigError, readList } from "./env.ts";

export interface SweepTarget {
  account: string;
  region: string;
}

export interface SweepPlan {
  /** Account ids, or "ORGANIZATION" for every ACTIVE account the central account may list. */
  accounts: string[];
  regions: string[];
}

/** DNS_CACHE_SWEEP_ACCOUNTS (ids or ORGANIZATION) and DNS_CACHE_SWEEP_REGIONS; empty: the function's own. */
export function readSweepPlan(env: Env): SweepPlan {
  const accounts = readList(env, "DNS_CACHE_SWEEP_ACCOUNTS");
  for (const account of accounts) {
    if (account !== "ORGANIZATION" && !/^\d{12}$/.test(account))
      throw new ConfigError(
        "DNS_CACHE_SWEEP_ACCOUNTS",
        `expected 12-digit account ids or ORGANIZATION, got "${account}"`,
      );
  }
  const regions = readList(env, "DNS_CACHE_SWEEP_REGIONS");
  for (const region of regions) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
      throw new ConfigError("DNS_CACHE_SWEEP_REGIONS", `"${region}" is not a region name`);
  }
  return { accounts, regions };
}

/**
 * The targets of one sweep. Listing the organisation can fail (the central account may not be allowed
 * to): then the listed ids, if any, and the home account are swept, and the failure is reported.
 */
export async function sweepTargets(
  plan: SweepPlan,
  home: SweepTarget,
  listOrganisation: () => Promise<string[]>,
): Promise<{ targets: SweepTarget[]; failures: Array<SweepTarget & { reason: string; message: string }> }> {
  const failures: Array<SweepTarget & { reason: string; message: string }> = [];
  const ids = new Set(plan.accounts.filter((a) => a !== "ORGANIZATION"));
  if (plan.accounts.includes("ORGANIZATION")) {
    try {
      for (const id of await listOrganisation()) ids.add(id);
    } catch (error) {
      failures.push({
        ...home,
        reason: (error as { reason?: string }).reason ?? "ORGANIZATION_UNLISTABLE",
        message: `could not list the organisation's accounts: ${(error as Error).message}`,
      });
    }
  }
  if (ids.size === 0) ids.add(home.account);
  const regions = plan.regions.length > 0 ? plan.regions : [home.region];
  return { targets: [...ids].flatMap((account) => regions.map((region) => ({ account, region }))), failures };
}
