import { ECSClient } from "@aws-sdk/client-ecs";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleEnforcerEvent } from "#shared/enforcer/flow.ts";
import { loadHealthConfig } from "#shared/health/config.ts";
import type { HealthObserver } from "#shared/health/invocation.ts";
import { handleHealthEvent } from "#shared/health/monitor.ts";
import { sweepTargets } from "#shared/runtime/targets.ts";
import { loadEvent } from "./helpers/events.ts";
import { type EcsStandin, startEcsStandin } from "./support/ecs-standin.ts";
import { deployPinned, enforcerWorld } from "./support/enforcer-world.ts";

let member: EcsStandin;
beforeAll(async () => {
  member = await startEcsStandin({ accountId: "222222222222" });
});
afterAll(async () => {
  await member.close();
});

const home = { account: "111111111111", region: "us-east-1" };

describe("sweep targets", () => {
  it("lists the organisation's accounts, keeps listed ones, and falls back to home when listing fails", async () => {
    const plan = { accounts: ["ORGANIZATION", "333333333333"], regions: ["us-east-1", "eu-west-1"] };
    const listed = await sweepTargets(plan, home, async () => ["111111111111", "222222222222"]);
    expect(listed.targets).toHaveLength(6);
    expect(listed.failures).toEqual([]);
    const denied = await sweepTargets({ accounts: ["ORGANIZATION"], regions: [] }, home, async () => {
      throw Object.assign(new Error("not allowed"), { reason: "ACCESS_DENIED" });
    });
    expect(denied.targets).toEqual([home]);
    expect(denied.failures).toEqual([expect.objectContaining({ reason: "ACCESS_DENIED" })]);
  });
});

describe("organisation sweeps: a failing account never stops the others", () => {
  it("the enforcer sweeps every account through its client, and reports the one that failed", async () => {
    deployPinned(member, "prod", "web", "web");
    const world = enforcerWorld(member, { env: { DNS_CACHE_MODE: "audit" }, home: false });
    const client = new ECSClient({ ...member.clientConfig(), maxAttempts: 2 });
    world.deps.ecsFor = async (t) => {
      if (t.account === "333333333333") throw new Error("AccessDenied: cannot assume dns-cache-member");
      return client;
    };
    world.deps.sweepTargets = async () => ({
      targets: [
        { account: "222222222222", region: "us-east-1" },
        { account: "333333333333", region: "us-east-1" },
      ],
      failures: [],
    });
    const report = await handleEnforcerEvent(loadEvent("scheduled-sweep.json"), world.deps, world.observer);
    expect(report.sweep?.byReason).toEqual({ WOULD_CONVERGE: 1 });
    expect(report.sweep?.failures).toEqual([
      expect.objectContaining({ account: "333333333333", reason: "ACCOUNT_FAILED" }),
    ]);
  });

  it("the health sweep covers every account through the member role", async () => {
    const problems: string[] = [];
    const observer = new Proxy({} as HealthObserver, {
      get: (_, name) => (name === "problem" ? (reason: string) => problems.push(reason) : () => undefined),
    });
    const client = new ECSClient({ ...member.clientConfig(), maxAttempts: 2 });
    const summary = await handleHealthEvent(loadEvent("scheduled-sweep.json"), {
      config: loadHealthConfig({}),
      ecsFor: async (t) => {
        if (t.account === "333333333333") throw new Error("AccessDenied");
        return client;
      },
      sweepEcs: new ECSClient({ region: "us-east-1", endpoint: "http://127.0.0.1:9" }),
      events: new EventBridgeClient({ region: "us-east-1", endpoint: "http://127.0.0.1:9" }),
      observer,
      sweepTargets: async () => ({
        targets: [
          { account: "222222222222", region: "us-east-1" },
          { account: "333333333333", region: "us-east-1" },
        ],
        failures: [],
      }),
    });
    expect(summary.trigger).toBe("sweep");
    // The member's two tasks of web:1 (opted in, no cache) are drift; the other account is reported.
    expect(summary.counts.DRIFT).toBe(2);
    expect(problems).toContain("ACCOUNT_FAILED");
  });
});
