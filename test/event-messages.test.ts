/**
 * The event parsers use zod/mini with only the English locale (shared/runtime/schema.ts): their messages must
 * stay those of classic zod, which the logs and the outcomes' messages carried before. No import of classic
 * "zod" here: it would set the English locale itself (test/zod-mini.test.ts compares the two APIs).
 */
import { describe, expect, it } from "vitest";
import { parseTaskStateChange } from "#shared/health/task-state-event.ts";
import { parseRegistrationEvent } from "#shared/injector/registration-event.ts";
import { loadEvent, registrationEvent } from "./helpers/events.ts";

type Json = Record<string, unknown>;
const failure = (parsed: { ok: true } | { ok: false; message: string }) =>
  parsed.ok ? "parsed" : parsed.message;

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
