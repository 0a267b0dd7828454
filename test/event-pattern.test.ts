import { describe, expect, it } from "vitest";
import { matchesPattern, validatePattern } from "./support/event-pattern.ts";

// Cases follow the EventBridge user guide ("Event patterns", "Comparison operators", "Arrays") and Event
// Ruler's README; the infra tests rely on this matcher to judge the templates' rules.
const ec2 = {
  version: "0",
  id: "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "012345679012",
  time: "2017-10-02T16:24:49Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  detail: {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    state: "running",
    flag: true,
    nothing: null,
    nested: { deep: { value: "x" } },
  },
};

describe("event pattern matcher", () => {
  it("matches exact values, with a field's list as alternatives and fields combined with AND", () => {
    expect(matchesPattern({ source: ["aws.ec2"] }, ec2)).toBe(true);
    expect(matchesPattern({ source: ["aws.s3", "aws.ec2"] }, ec2)).toBe(true);
    expect(matchesPattern({ source: ["aws.s3"] }, ec2)).toBe(false);
    expect(matchesPattern({ source: ["aws.ec2"], detail: { state: ["stopped"] } }, ec2)).toBe(false);
    expect(matchesPattern({ detail: { nested: { deep: { value: ["x"] } } } }, ec2)).toBe(true);
  });

  it("compares types strictly: a string never equals a number, true never equals 'true'", () => {
    expect(matchesPattern({ detail: { "c-count": [5] } }, ec2)).toBe(true);
    expect(matchesPattern({ detail: { "c-count": ["5"] } }, ec2)).toBe(false);
    expect(matchesPattern({ detail: { flag: [true] } }, ec2)).toBe(true);
    expect(matchesPattern({ detail: { flag: ["true"] } }, ec2)).toBe(false);
    expect(matchesPattern({ detail: { nothing: [null] } }, ec2)).toBe(true);
  });

  it("needs every field of the pattern in the event", () => {
    expect(matchesPattern({ detail: { missing: ["x"] } }, ec2)).toBe(false);
    expect(matchesPattern({ detail: { missing: [{ "anything-but": "x" }] } }, ec2)).toBe(false);
    expect(matchesPattern({ absent: { deeper: ["x"] } }, ec2)).toBe(false);
  });

  it("matches a pattern list against an event array when they intersect", () => {
    expect(
      matchesPattern({ resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"] }, ec2),
    ).toBe(true);
    expect(matchesPattern({ tags: ["b"] }, { tags: ["a", "b"] })).toBe(true);
    expect(matchesPattern({ tags: ["c"] }, { tags: ["a", "b"] })).toBe(false);
    expect(matchesPattern({ tags: ["b"] }, { tags: [["a"], ["b"]] })).toBe(true);
  });

  it("supports prefix, suffix, equals-ignore-case and wildcard on strings only", () => {
    expect(matchesPattern({ time: [{ prefix: "2017-10-02" }] }, ec2)).toBe(true);
    expect(matchesPattern({ source: [{ suffix: "ec2" }] }, ec2)).toBe(true);
    expect(matchesPattern({ source: [{ suffix: "EC2" }] }, ec2)).toBe(false);
    expect(matchesPattern({ source: [{ suffix: { "equals-ignore-case": "EC2" } }] }, ec2)).toBe(true);
    expect(matchesPattern({ source: [{ prefix: { "equals-ignore-case": "AWS." } }] }, ec2)).toBe(true);
    expect(matchesPattern({ source: [{ "equals-ignore-case": "AWS.EC2" }] }, ec2)).toBe(true);
    expect(matchesPattern({ region: [{ wildcard: "us-*-1" }] }, ec2)).toBe(true);
    expect(matchesPattern({ region: [{ wildcard: "eu-*" }] }, ec2)).toBe(false);
    expect(matchesPattern({ a: [{ wildcard: "x\\*y" }] }, { a: "x*y" })).toBe(true);
    expect(matchesPattern({ a: [{ wildcard: "x\\*y" }] }, { a: "xzy" })).toBe(false);
    expect(matchesPattern({ detail: { "c-count": [{ prefix: "5" }] } }, ec2)).toBe(false);
  });

  it("supports anything-but with a value, a list, a prefix and a suffix; the field must exist", () => {
    const state = (cond: unknown) => matchesPattern({ detail: { state: [cond] } }, ec2);
    expect(state({ "anything-but": "initializing" })).toBe(true);
    expect(state({ "anything-but": "running" })).toBe(false);
    expect(state({ "anything-but": ["stopped", "overloaded"] })).toBe(true);
    expect(state({ "anything-but": ["stopped", "running"] })).toBe(false);
    expect(state({ "anything-but": { prefix: "run" } })).toBe(false);
    expect(state({ "anything-but": { prefix: "init" } })).toBe(true);
    expect(state({ "anything-but": { suffix: "ing" } })).toBe(false);
    expect(state({ "anything-but": { suffix: "ed" } })).toBe(true);
    expect(state({ "anything-but": { "equals-ignore-case": "RUNNING" } })).toBe(false);
    expect(matchesPattern({ detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } }, ec2)).toBe(true);
    // An array in the event: some element that is not excluded is enough.
    expect(matchesPattern({ tags: [{ "anything-but": "a" }] }, { tags: ["a", "b"] })).toBe(true);
    expect(matchesPattern({ tags: [{ "anything-but": "a" }] }, { tags: ["a"] })).toBe(false);
  });

  it("supports exists on leaves: absent fields, and objects, which are not values", () => {
    expect(matchesPattern({ detail: { "c-count": [{ exists: true }] } }, ec2)).toBe(true);
    expect(matchesPattern({ detail: { "c-count": [{ exists: false }] } }, ec2)).toBe(false);
    expect(matchesPattern({ detail: { "e-count": [{ exists: false }] } }, ec2)).toBe(true);
    expect(matchesPattern({ detail: { "e-count": [{ exists: true }] } }, ec2)).toBe(false);
    expect(matchesPattern({ nowhere: { "e-count": [{ exists: false }] } }, ec2)).toBe(true);
    expect(matchesPattern({ detail: { nested: [{ exists: false }] } }, ec2)).toBe(true);
  });

  it("supports numeric ranges on numbers only", () => {
    const detail = (field: string, cond: unknown) => matchesPattern({ detail: { [field]: [cond] } }, ec2);
    expect(detail("c-count", { numeric: [">", 0, "<=", 5] })).toBe(true);
    expect(detail("d-count", { numeric: ["<", 3] })).toBe(false);
    expect(detail("x-limit", { numeric: ["=", 301.8] })).toBe(true);
    expect(detail("state", { numeric: [">", 0] })).toBe(false);
  });

  it("supports $or, nested and beside other fields", () => {
    const pattern = {
      source: ["aws.ec2"],
      $or: [{ detail: { state: ["stopped"] } }, { detail: { "c-count": [{ numeric: [">", 4] }] } }],
    };
    expect(matchesPattern(pattern, ec2)).toBe(true);
    expect(matchesPattern({ ...pattern, source: ["aws.s3"] }, ec2)).toBe(false);
    expect(
      matchesPattern(
        { detail: { $or: [{ state: ["stopped"] }, { "instance-id": [{ prefix: "j-" }] }] } },
        ec2,
      ),
    ).toBe(false);
    // Two independent $or (one per level) must both hold.
    const both = {
      detail: {
        $or: [{ state: ["running"] }, { state: ["pending"] }],
        nested: { $or: [{ deep: { value: ["y"] } }, { deep: { value: ["z"] } }] },
      },
    };
    expect(matchesPattern(both, ec2)).toBe(false);
    both.detail.nested.$or.push({ deep: { value: ["x"] } });
    expect(matchesPattern(both, ec2)).toBe(true);
  });

  describe("arrays of objects", () => {
    const event = {
      detail: {
        tags: [
          { key: "dns-cache", value: "disabled" },
          { key: "team", value: "enabled" },
        ],
      },
    };
    const both = { detail: { tags: { key: ["dns-cache"], value: ["enabled"] } } };

    it("consistent mode takes every field of a match from one element", () => {
      expect(matchesPattern(both, event, "consistent")).toBe(false);
      expect(
        matchesPattern({ detail: { tags: { key: ["team"], value: ["enabled"] } } }, event, "consistent"),
      ).toBe(true);
    });

    it("flattened mode matches each field against any element", () => {
      expect(matchesPattern(both, event, "flattened")).toBe(true);
      expect(matchesPattern({ detail: { tags: { key: ["other"] } } }, event, "flattened")).toBe(false);
    });

    it("agrees on a single field under an array in both modes", () => {
      for (const mode of ["consistent", "flattened"] as const) {
        expect(matchesPattern({ detail: { tags: { key: ["team"] } } }, event, mode)).toBe(true);
        expect(matchesPattern({ detail: { tags: { key: ["nope"] } } }, event, mode)).toBe(false);
      }
    });
  });

  describe("validation", () => {
    it.each([
      [{}, /empty/],
      [{ source: "aws.ec2" }, /in a list/],
      [{ source: [] }, /empty list/],
      [{ source: [{ contains: "x" }] }, /unsupported/],
      [{ source: [{ prefix: "" }] }, /non-empty/],
      [{ source: [{ prefix: "a", suffix: "b" }] }, /unsupported/],
      [{ source: [{ exists: "yes" }] }, /true or false/],
      [{ source: [{ "anything-but": ["a", 1] }] }, /strings or of numbers/],
      [{ source: [{ "anything-but": { contains: "a" } }] }, /anything-but takes/],
      [{ source: [{ wildcard: "a**b" }] }, /consecutive/],
      [{ $or: [{ source: ["a"] }] }, /two or more/],
    ])("rejects %j", (pattern, message) => {
      expect(() => validatePattern(pattern)).toThrow(message);
      expect(() => matchesPattern(pattern, ec2)).toThrow(message);
    });

    it("accepts what the templates use", () => {
      expect(() =>
        validatePattern({
          source: ["aws.ecs"],
          detail: {
            errorCode: [{ exists: false }],
            userIdentity: {
              $or: [
                { principalId: [{ exists: false }] },
                { principalId: [{ "anything-but": { suffix: ":x" } }] },
              ],
            },
          },
        }),
      ).not.toThrow();
    });
  });
});
