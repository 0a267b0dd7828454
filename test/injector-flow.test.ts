/**
 * The injector's event handling around the copy path: what it reads from a CloudTrail event, which events
 * it leaves alone and why, what it keys the duplicate guard on, how it reports what it cannot finish, and
 * what it logs and counts.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import {
  ClientException,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-vitest/extend";
import { beforeEach, describe, expect, it } from "vitest";
import { INJECTOR_SESSION_NAME, type Target } from "#shared/aws/clients.ts";
import { RetryableError } from "#shared/aws/errors.ts";
import type { Guard, JsonObject } from "#shared/aws/guard.ts";
import { unguarded } from "#shared/aws/idempotency.ts";
import { MARKER_TAGS } from "#shared/engine/constants.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import { handleRegistrationEvent, type InjectorDeps, type Outcome } from "#shared/injector/flow.ts";
import { injectorObserver, parseSqsBody } from "#shared/injector/observer.ts";
import { parseRegistrationEvent } from "#shared/injector/registration-event.ts";
import { loadEvent } from "./helpers/events.ts";
import { fargateApp } from "./helpers/fixtures.ts";

type Json = Record<string, unknown>;
const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({
  region: "us-east-1",
  maxAttempts: 1,
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
});
beforeEach(() => ecsMock.reset());

const ACCOUNT = "123456789012";
const EVENT_ID = "c1f2d3e4-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const arn = (revision: number, account = ACCOUNT, region = "us-east-1", partition = "aws") =>
  `arn:${partition}:ecs:${region}:${account}:task-definition/app:${revision}`;
const config = loadInjectorConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: "t" });

function sample(edit: (detail: Json, event: Json) => void = () => {}): Json {
  const event = loadEvent("register-tagged.json");
  edit(event.detail as Json, event);
  return event;
}
const withoutResponse = (edit: (detail: Json, event: Json) => void = () => {}) =>
  sample((detail, event) => {
    detail.responseElements = { omitted: true };
    edit(detail, event);
  });

function described(revision: number) {
  const { tags: _, ...td } = fargateApp();
  return {
    taskDefinition: {
      ...(td as TaskDefinition),
      taskDefinitionArn: arn(revision),
      revision,
      status: "ACTIVE" as const,
    },
    tags: [{ key: "dns-cache", value: "enabled" }],
  };
}

function familyAt(revision: number) {
  ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(revision));
  ecsMock
    .on(RegisterTaskDefinitionCommand)
    .resolves({ taskDefinition: { taskDefinitionArn: arn(revision + 1), revision: revision + 1 } });
}

/** A duplicate guard in memory: remembers the first result per key, as the DynamoDB one does. */
function memoryGuard(): Guard & { keys: string[] } {
  const results = new Map<string, JsonObject>();
  const keys: string[] = [];
  return {
    keys,
    async run<T extends JsonObject>(key: string, work: () => Promise<T>) {
      keys.push(key);
      const first = results.get(key);
      if (first) return { result: first as T, replayed: true };
      const result = await work();
      results.set(key, result);
      return { result, replayed: false };
    },
    registerLambdaContext() {},
  };
}

function recorder() {
  const outcomes: Outcome[] = [];
  const retries: Array<{ error: RetryableError; about: Partial<Outcome> }> = [];
  return {
    outcomes,
    retries,
    outcome: (o: Outcome) => outcomes.push(o),
    retry: (error: RetryableError, about: Partial<Outcome>) => retries.push({ error, about }),
  };
}

async function handle(event: unknown, deps: Partial<InjectorDeps> = {}) {
  const obs = recorder();
  const outcome = await handleRegistrationEvent(
    event,
    { config, ecsFor: () => ecs, guard: unguarded, ...deps },
    obs,
  );
  expect(obs.outcomes).toEqual([outcome]);
  return outcome;
}

describe("reading a RegisterTaskDefinition event", () => {
  it("reads the revision, where it lives, who registered it and the event's id", () => {
    expect(parseRegistrationEvent(sample())).toStrictEqual({
      ok: true,
      registration: {
        taskDefinitionArn: arn(7),
        family: "app",
        revision: 7,
        partition: "aws",
        account: ACCOUNT,
        region: "us-east-1",
        eventId: EVENT_ID,
        sessionName: "github-actions",
        requestMarked: false,
      },
    });
  });

  it("takes the account, region and partition from the task definition's ARN (an organisation member's)", () => {
    const event = sample((detail) => {
      (detail.responseElements as { taskDefinition: Json }).taskDefinition.taskDefinitionArn = arn(
        3,
        "222233334444",
        "cn-north-1",
        "aws-cn",
      );
    });
    expect(parseRegistrationEvent(event)).toMatchObject({
      ok: true,
      registration: { partition: "aws-cn", account: "222233334444", region: "cn-north-1", revision: 3 },
    });
  });

  it("has no session name or event id when the event has none (an IAM user's call)", () => {
    const event = sample((detail) => {
      (detail.userIdentity as Json).arn = `arn:aws:iam::${ACCOUNT}:user/alice`;
      delete detail.eventID;
    });
    const parsed = parseRegistrationEvent(event);
    expect(parsed.ok && parsed.registration).not.toHaveProperty("sessionName");
    expect(parsed.ok && parsed.registration).not.toHaveProperty("eventId");
  });

  it.each([
    [[{ key: MARKER_TAGS.version, value: "0.1.0" }], true],
    [
      [
        { key: "team", value: "a" },
        { key: MARKER_TAGS.version, value: "0.1.0" },
      ],
      true,
    ],
    [[{ key: "team", value: "a" }], false],
    [[], false],
  ])("marks a request with tags %j as registered already injected: %s", (tags, marked) => {
    const parsed = parseRegistrationEvent(
      sample((detail) => {
        (detail.requestParameters as Json).tags = tags;
      }),
    );
    expect(parsed.ok && parsed.registration.requestMarked).toBe(marked);
  });

  it("goes by the request's family when CloudTrail left the response out, in the event's account and region", () => {
    expect(parseRegistrationEvent(withoutResponse())).toStrictEqual({
      ok: true,
      registration: {
        family: "app",
        partition: "aws",
        account: ACCOUNT,
        region: "us-east-1",
        eventId: EVENT_ID,
        sessionName: "github-actions",
        requestMarked: false,
      },
    });
    const china = withoutResponse((_, event) => {
      event.region = "cn-north-1";
    });
    expect(parseRegistrationEvent(china)).toMatchObject({
      registration: { partition: "aws-cn", region: "cn-north-1" },
    });
  });

  it.each([
    ["no family in the request", (d: Json) => delete (d.requestParameters as Json).family],
    ["no request parameters", (d: Json) => (d.requestParameters = null)],
    ["a family name ECS would refuse", (d: Json) => ((d.requestParameters as Json).family = "app:7")],
  ])("refuses a response-less event with %s as MALFORMED_EVENT", (_, edit) => {
    expect(parseRegistrationEvent(withoutResponse(edit))).toEqual({
      ok: false,
      reason: "MALFORMED_EVENT",
      message: "neither the response nor the request names the task definition",
    });
  });

  it.each(["arn:aws:ecs:us-east-1:123456789012:service/app", ""])(
    "refuses an event whose ARN %j is not a task definition revision's, naming the field",
    (badArn) => {
      const event = sample((detail) => {
        (detail.responseElements as { taskDefinition: Json }).taskDefinition.taskDefinitionArn = badArn;
      });
      expect(parseRegistrationEvent(event)).toEqual({
        ok: false,
        reason: "MALFORMED_EVENT",
        message:
          "detail.responseElements.taskDefinition.taskDefinitionArn: not a task definition revision ARN",
      });
    },
  );

  it("reports a failed call with its error code", () => {
    const event = sample((detail) => {
      detail.errorCode = "AccessDenied";
    });
    expect(parseRegistrationEvent(event)).toEqual({
      ok: false,
      reason: "REGISTRATION_FAILED",
      message: "the call failed with AccessDenied",
    });
  });

  it.each([
    [
      "another service's call",
      sample((_, e) => (e.source = "aws.s3")),
      "NOT_A_REGISTRATION_EVENT",
      /^source: /,
    ],
    [
      "another ECS call",
      sample((d) => (d.eventName = "CreateService")),
      "NOT_A_REGISTRATION_EVENT",
      /^detail\.eventName: /,
    ],
    ["null", null, "NOT_A_REGISTRATION_EVENT", /^event: /],
    [
      "a registration with a bad account",
      sample((_, e) => (e.account = "12")),
      "MALFORMED_EVENT",
      /^account: /,
    ],
  ])("classifies %s, naming the field", (_, event, reason, message) => {
    const parsed = parseRegistrationEvent(event);
    expect(parsed).toMatchObject({ ok: false, reason });
    expect(parsed.ok ? "" : parsed.message).toMatch(message);
  });
});

describe("handling one event", () => {
  it("in single-account mode, leaves events of another account or region, saying where it acts", async () => {
    const home = { account: "999988887777", region: "us-east-1" };
    expect(await handle(sample(), { home })).toStrictEqual({
      outcome: "skipped",
      reason: "FOREIGN_EVENT",
      family: "app",
      taskDefinitionArn: arn(7),
      message: `from ${ACCOUNT}/us-east-1; this deployment acts in 999988887777/us-east-1 only`,
    });
    expect(await handle(sample(), { home: { account: ACCOUNT, region: "eu-west-1" } })).toMatchObject({
      reason: "FOREIGN_EVENT",
      message: `from ${ACCOUNT}/us-east-1; this deployment acts in ${ACCOUNT}/eu-west-1 only`,
    });
    expect(ecsMock.calls()).toHaveLength(0);
  });

  it("acts in the account and region of the task definition (an organisation member's)", async () => {
    familyAt(3);
    const targets: Target[] = [];
    const event = sample((detail) => {
      (detail.responseElements as { taskDefinition: Json }).taskDefinition.taskDefinitionArn = arn(
        3,
        "222233334444",
        "eu-west-1",
      );
    });
    const ecsFor = (target: Target) => {
      targets.push(target);
      return ecs;
    };
    expect(await handle(event, { ecsFor })).toMatchObject({ outcome: "injected" });
    expect(targets).toEqual([{ account: "222233334444", region: "eu-west-1" }]);
  });

  it("keeps the reason's message in the outcome", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves(described(9));
    expect(await handle(sample())).toStrictEqual({
      outcome: "skipped",
      reason: "SUPERSEDED",
      message: "revision 9 is newer",
      family: "app",
      taskDefinitionArn: arn(7),
    });
  });

  it.each([
    [
      "knows no ACTIVE revision",
      () => new ClientException({ message: "Unable to describe task definition.", $metadata: {} }),
    ],
  ])("reports the family, and no revision, when the response is left out and ECS %s", async (_, error) => {
    ecsMock.on(DescribeTaskDefinitionCommand).rejects(error());
    expect(await handle(withoutResponse())).toStrictEqual({
      outcome: "skipped",
      reason: "SOURCE_NOT_FOUND",
      message: "the family has no ACTIVE revision",
      family: "app",
    });
  });

  it("takes an answer without a task definition as no ACTIVE revision", async () => {
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({});
    expect(await handle(withoutResponse())).toMatchObject({ outcome: "skipped", reason: "SOURCE_NOT_FOUND" });
  });

  it("answers a second delivery of one revision's event from the guard, with the first outcome", async () => {
    familyAt(7);
    const guard = memoryGuard();
    expect(await handle(sample(), { guard })).toMatchObject({ outcome: "injected" });
    expect(await handle(sample(), { guard })).toStrictEqual({
      outcome: "skipped",
      reason: "DUPLICATE_EVENT",
      firstOutcome: "INJECTED",
      family: "app",
      taskDefinitionArn: arn(7),
      injectedTaskDefinitionArn: arn(8),
    });
    expect(guard.keys).toEqual([arn(7), arn(7)]);
    expect(ecsMock).toHaveReceivedCommandTimes(RegisterTaskDefinitionCommand, 1);
  });

  it("keys the guard on the event when the response (and so the revision) is unknown", async () => {
    familyAt(7);
    const guard = memoryGuard();
    await handle(withoutResponse(), { guard });
    await handle(
      withoutResponse((detail) => {
        detail.eventID = "another-event";
      }),
      { guard },
    );
    await handle(
      withoutResponse((detail) => {
        delete detail.eventID;
      }),
      { guard },
    );
    expect(guard.keys).toEqual([
      `${ACCOUNT}/us-east-1/app#event:${EVENT_ID}`,
      `${ACCOUNT}/us-east-1/app#event:another-event`,
      `${ACCOUNT}/us-east-1/app#event:unknown`,
    ]);
  });

  it.each([
    ["an error", new Error("no role to assume"), "no role to assume"],
    ["a non-error", "socket hang up", "socket hang up"],
    ["nothing at all", undefined, "undefined"],
  ])(
    "turns %s it did not expect into a retryable INTERNAL error, reported once",
    async (_, thrown, message) => {
      const obs = recorder();
      const deps = {
        config,
        guard: unguarded,
        ecsFor: () => {
          throw thrown;
        },
      };
      const error = await handleRegistrationEvent(sample(), deps, obs).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryableError);
      expect(error).toMatchObject({ reason: "INTERNAL", message, cause: thrown });
      expect(obs.retries).toEqual([{ error, about: { family: "app", taskDefinitionArn: arn(7) } }]);
      expect(obs.outcomes).toEqual([]);
    },
  );
});

describe("an SQS message body", () => {
  it("is the event when it is JSON, and a MALFORMED_EVENT outcome saying so when not", () => {
    expect(parseSqsBody('{"source":"aws.ecs"}')).toEqual({ ok: true, event: { source: "aws.ecs" } });
    expect(parseSqsBody("{not json")).toEqual({
      ok: false,
      outcome: { outcome: "skipped", reason: "MALFORMED_EVENT", message: "the SQS message body is not JSON" },
    });
  });
});

describe("configuration", () => {
  it("knows its own registrations by the injector's session name and the function's name", () => {
    expect(loadInjectorConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: "t" }).selfSessionNames).toEqual([
      INJECTOR_SESSION_NAME,
    ]);
    expect(
      loadInjectorConfig({ DNS_CACHE_IDEMPOTENCY_TABLE: "t", AWS_LAMBDA_FUNCTION_NAME: "fn" })
        .selfSessionNames,
    ).toEqual([INJECTOR_SESSION_NAME, "fn"]);
    expect(loadInjectorConfig({ DNS_CACHE_MODE: "audit" })).not.toHaveProperty("idempotencyTable");
  });
});

describe("the observer's logs and metrics", () => {
  function observed(run: (observer: ReturnType<typeof injectorObserver>) => void) {
    const logger = new Logger({ serviceName: "dns-cache-injector" });
    const metrics = new Metrics({ serviceName: "dns-cache-injector", namespace: "DnsCache" });
    // Powertools writes INFO lines to stdout and WARN and ERROR lines to stderr: both, in order.
    const lines: string[] = [];
    const streams = [process.stdout, process.stderr];
    const originals = streams.map((stream) => stream.write);
    for (const stream of streams) {
      stream.write = ((chunk: string | Uint8Array) => {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        return true;
      }) as typeof stream.write;
    }
    try {
      run(injectorObserver(logger, metrics, "inject"));
      metrics.publishStoredMetrics();
    } finally {
      streams.forEach((stream, i) => {
        stream.write = originals[i] as typeof stream.write;
      });
    }
    const records = lines.map((l) => JSON.parse(l) as Json);
    return { logs: records.filter((r) => !r._aws), emf: records.filter((r) => r._aws) };
  }

  it("logs one line per outcome at its level, with the codes, names and ARNs only", async () => {
    const { logs } = observed((o) => {
      o.outcome({
        outcome: "injected",
        reason: "INJECTED",
        family: "app",
        taskDefinitionArn: arn(7),
        injectedTaskDefinitionArn: arn(8),
        containerDefinitions: [{ environment: [{ name: "DB_PASSWORD", value: "secret" }] }],
      });
      o.outcome({
        outcome: "refused",
        reason: "NAME_CONFLICT",
        reasons: ["NAME_CONFLICT"],
        message: "rename it",
      });
      o.outcome({ outcome: "failed", reason: "INVALID_SOURCE", message: "bad" });
      o.outcome({ outcome: "skipped", reason: "DUPLICATE_EVENT", firstOutcome: "INJECTED" });
      o.outcome({ outcome: "audited", reason: "WOULD_INJECT" });
    });
    expect(logs.map((l) => [l.level, l.message])).toEqual([
      ["INFO", "injected: INJECTED"],
      ["WARN", "refused: NAME_CONFLICT"],
      ["ERROR", "failed: INVALID_SOURCE"],
      ["INFO", "skipped: DUPLICATE_EVENT"],
      ["INFO", "audited: WOULD_INJECT"],
    ]);
    expect(logs[0]).toMatchObject({
      outcome: "injected",
      reason: "INJECTED",
      family: "app",
      taskDefinitionArn: arn(7),
      injectedTaskDefinitionArn: arn(8),
      mode: "inject",
    });
    expect(logs[1]).toMatchObject({ reasons: ["NAME_CONFLICT"], detail: "rename it" });
    expect(logs[3]).toMatchObject({ firstOutcome: "INJECTED" });
    expect(JSON.stringify(logs)).not.toMatch(/containerDefinitions|DB_PASSWORD|secret/);
  });

  it("counts each outcome, and each outcome but an injection by its reason too", async () => {
    const { emf } = observed((o) => {
      o.outcome({ outcome: "injected", reason: "INJECTED" });
      o.outcome({ outcome: "skipped", reason: "SELF_ECHO" });
      o.outcome({ outcome: "refused", reason: "NAME_CONFLICT" });
    });
    const byReason = emf
      .filter((r) => "Reason" in r)
      .map((r) => [r.Reason, Object.keys(r).filter((k) => /^[A-Z]/.test(k) && k !== "Reason")]);
    expect(byReason).toEqual([
      ["SELF_ECHO", ["Skipped"]],
      ["NAME_CONFLICT", ["Refused"]],
    ]);
    expect(emf.find((r) => !("Reason" in r))).toMatchObject({ Injected: 1, Skipped: 1, Refused: 1 });
  });

  it("logs and counts a retry with what it was about, and records deferred for lack of time", async () => {
    const { logs, emf } = observed((o) => {
      o.retry(new RetryableError("THROTTLED", "Rate exceeded"), { family: "app", taskDefinitionArn: arn(7) });
      o.deferred?.(2);
    });
    expect(logs).toMatchObject([
      {
        level: "WARN",
        message: "retry: THROTTLED",
        reason: "THROTTLED",
        detail: "Rate exceeded",
        family: "app",
        taskDefinitionArn: arn(7),
        mode: "inject",
      },
      { level: "WARN", message: "deferred: TIME_BUDGET", count: 2, mode: "inject" },
    ]);
    expect(emf.find((r) => r.Reason === "THROTTLED")).toMatchObject({ Retried: 1 });
    expect(emf.find((r) => r.Reason === "TIME_BUDGET")).toMatchObject({ Deferred: 2 });
  });
});
