import { ClientException, DescribeTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { unguarded } from "#shared/aws/idempotency.ts";
import { loadInjectorConfig } from "#shared/injector/config.ts";
import { handleRegistrationEvent, type Outcome } from "#shared/injector/flow.ts";
import { parseSqsBody } from "#shared/injector/observer.ts";
import { loadEvent } from "./helpers/events.ts";

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({
  region: "us-east-1",
  maxAttempts: 1,
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
});
const deps = { config: loadInjectorConfig({ DNS_CACHE_MODE: "audit" }), ecsFor: () => ecs, guard: unguarded };
const KINDS = new Set(["injected", "audited", "skipped", "refused", "failed"]);
const sample = loadEvent("register-tagged.json");

beforeEach(() => {
  ecsMock.reset();
  // Whatever the event names does not exist: a well-formed event ends as SOURCE_NOT_FOUND.
  ecsMock
    .on(DescribeTaskDefinitionCommand)
    .rejects(new ClientException({ message: "Unable to describe task definition.", $metadata: {} }));
});

async function classify(event: unknown): Promise<Outcome> {
  const seen: Outcome[] = [];
  const outcome = await handleRegistrationEvent(event, deps, {
    outcome: (o) => seen.push(o),
    retry: () => {},
  });
  expect(KINDS.has(outcome.outcome)).toBe(true);
  expect(typeof outcome.reason).toBe("string");
  expect(outcome.reason).toMatch(/^[A-Z_]+$/);
  expect(seen).toEqual([outcome]);
  return outcome;
}

/** Replaces the value at a random path of the sample with something hostile. */
const hostile = fc.oneof(
  fc.anything(),
  fc.string({ maxLength: 5000 }),
  fc.constantFrom(
    null,
    undefined,
    "",
    0,
    -1,
    1e308,
    Number.NaN,
    [],
    {},
    "arn:aws:ecs:us-east-1:1:task-definition/x:1",
  ),
  fc.constantFrom({ __proto__: { polluted: true } }, JSON.parse('{"__proto__": {"polluted": true}}'), {
    constructor: { prototype: {} },
  }),
);
const paths = [
  [],
  ["source"],
  ["detail-type"],
  ["account"],
  ["region"],
  ["detail"],
  ["detail", "eventName"],
  ["detail", "eventSource"],
  ["detail", "errorCode"],
  ["detail", "userIdentity"],
  ["detail", "userIdentity", "arn"],
  ["detail", "requestParameters"],
  ["detail", "requestParameters", "tags"],
  ["detail", "responseElements"],
  ["detail", "responseElements", "taskDefinition"],
  ["detail", "responseElements", "taskDefinition", "taskDefinitionArn"],
  ["detail", "responseElements", "taskDefinition", "revision"],
];

function mutate(path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(sample) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null) return copy;
    node = next as Record<string, unknown>;
  }
  const last = path.at(-1) ?? "";
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

describe("hostile and malformed events", () => {
  it("are always classified, never thrown", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), hostile, async (path, value) => {
        await classify(mutate(path, value));
      }),
      { numRuns: 400 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("classifies arbitrary JSON and SQS bodies without a call for anything that is not a registration", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const outcome = await classify(value);
        expect(["NOT_A_REGISTRATION_EVENT", "MALFORMED_EVENT"]).toContain(outcome.reason);
      }),
      { numRuns: 300 },
    );
    expect(ecsMock.calls()).toHaveLength(0);
    // Any body: JSON gives its value, anything else a MALFORMED_EVENT outcome (both kinds generated).
    await fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (body) => {
        let value: unknown;
        let isJson = true;
        try {
          value = JSON.parse(body);
        } catch {
          isJson = false;
        }
        expect(parseSqsBody(body)).toEqual(
          isJson
            ? { ok: true, event: value }
            : {
                ok: false,
                outcome: { outcome: "skipped", reason: "MALFORMED_EVENT", message: expect.any(String) },
              },
        );
      }),
      { numRuns: 300 },
    );
  });

  it("rejects ARNs that do not name a task definition revision, and never describes them", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (arn) => {
        fc.pre(!/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+$/.test(arn));
        const outcome = await classify(
          mutate(["detail", "responseElements", "taskDefinition", "taskDefinitionArn"], arn),
        );
        expect(outcome.reason).toBe("MALFORMED_EVENT");
      }),
      { numRuns: 200 },
    );
    expect(ecsMock.calls()).toHaveLength(0);
  });
});
