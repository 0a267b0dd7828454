/**
 * The event parsers use zod/mini with only the English locale (shared/runtime/schema.ts): their messages must
 * stay those of classic zod, which the logs and the outcomes' messages carried before.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as classic from "zod";
import { parseTaskStateChange } from "#shared/health/task-state-event.ts";
import { parseRegistrationEvent } from "#shared/injector/registration-event.ts";
import * as z from "#shared/runtime/schema.ts";
import { loadEvent, registrationEvent } from "./helpers/events.ts";

type Json = Record<string, unknown>;
const failure = (parsed: { ok: true } | { ok: false; message: string }) =>
  parsed.ok ? "parsed" : parsed.message;

describe("zod/mini with the English locale", () => {
  // Each check the parsers use, in both APIs.
  const pairs: Array<[string, classic.ZodType, z.ZodMiniType]> = [
    ["12 digits", classic.string().regex(/^\d{12}$/), z.string().check(z.regex(/^\d{12}$/))],
    ["literal", classic.literal("aws.ecs"), z.literal("aws.ecs")],
    ["non-empty", classic.string().min(1), z.string().check(z.minLength(1))],
    ["arn", classic.string().startsWith("arn:"), z.string().check(z.startsWith("arn:"))],
    ["positive int", classic.number().int().positive(), z.int().check(z.positive())],
    ["non-negative int", classic.number().int().nonnegative(), z.int().check(z.nonnegative())],
    [
      "string or number",
      classic.union([classic.string(), classic.number()]),
      z.union([z.string(), z.number()]),
    ],
    ["optional", classic.string().optional().nullable(), z.optional(z.nullable(z.string()))],
    [
      "loose object",
      classic.object({ name: classic.string(), list: classic.array(classic.string()).optional() }).loose(),
      z.looseObject({ name: z.string(), list: z.optional(z.array(z.string())) }),
    ],
  ];
  const issues = (error: { issues: ReadonlyArray<{ path: PropertyKey[]; message: string }> } | undefined) =>
    error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`);

  it.each(pairs)("%s: the same issues and messages as classic zod, for any input", (_, before, after) => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.double()), (value) => {
        expect(issues(after.safeParse(value).error)).toEqual(issues(before.safeParse(value).error));
      }),
      { numRuns: 300 },
    );
  });
});

describe("the parsers' messages", () => {
  it("name the field and say what is wrong, in English", () => {
    const event = registrationEvent("web", 3) as Json;
    expect(failure(parseRegistrationEvent({ ...event, account: "12" }))).toBe(
      "account: Invalid string: must match pattern /^\\d{12}$/",
    );
    const td = ((event.detail as Json).responseElements as Json).taskDefinition as Json;
    td.revision = 0;
    expect(failure(parseRegistrationEvent(event))).toBe(
      "detail.responseElements.taskDefinition.revision: Too small: expected number to be >0",
    );
    const change = loadEvent("task-state-change-running.json") as Json;
    const detail = change.detail as Json;
    expect(failure(parseTaskStateChange({ ...change, detail: { ...detail, version: -1 } }))).toBe(
      "detail.version: Too small: expected number to be >=0",
    );
    expect(failure(parseTaskStateChange({ ...change, detail: { ...detail, containers: [{}] } }))).toBe(
      "detail.containers.0.name: Invalid input: expected string, received undefined",
    );
  });
});
