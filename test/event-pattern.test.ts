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
  describe("operators in detail", () => {
    const on = (value: unknown, cond: unknown) => matchesPattern({ a: [cond] }, { a: value });

    it("compares numerically with every operator, both sides of each bound", () => {
      expect([4, 5, 6].map((v) => on(v, { numeric: ["=", 5] }))).toEqual([false, true, false]);
      expect([4, 5, 6].map((v) => on(v, { numeric: ["<", 5] }))).toEqual([true, false, false]);
      expect([4, 5, 6].map((v) => on(v, { numeric: ["<=", 5] }))).toEqual([true, true, false]);
      expect([4, 5, 6].map((v) => on(v, { numeric: [">", 5] }))).toEqual([false, false, true]);
      expect([4, 5, 6].map((v) => on(v, { numeric: [">=", 5] }))).toEqual([false, true, true]);
      // Never a string, even one that reads as a number.
      expect(on("5", { numeric: [">", 0] })).toBe(false);
    });

    it("refuses a numeric operator or bound it does not know, rather than not match", () => {
      expect(() => on(5, { numeric: ["~", 5] })).toThrow("unsupported numeric operator ~");
      expect(() => on(5, { numeric: [">", "4"] })).toThrow("numeric bounds are numbers");
    });

    it("takes a wildcard's other characters literally, escapes included, across lines", () => {
      expect(on("abc", { wildcard: "a.c" })).toBe(false);
      expect(on("a.c", { wildcard: "a.c" })).toBe(true);
      expect(on("a(1)", { wildcard: "a(*)" })).toBe(true);
      expect(on("a\\", { wildcard: "a\\" })).toBe(true);
      expect(on("a\nb", { wildcard: "a*b" })).toBe(true);
      expect(on("A**B", { "equals-ignore-case": "a**b" })).toBe(true);
      expect(on("aws.s3", { "equals-ignore-case": "AWS.EC2" })).toBe(false);
    });

    it("matches exists: true on any value, strings included", () => {
      expect(on("running", { exists: true })).toBe(true);
      expect(on(null, { exists: true })).toBe(true);
    });

    it("supports anything-but with a number, a wildcard and an equals-ignore-case list", () => {
      expect(on(301.8, { "anything-but": 301.8 })).toBe(false);
      expect(on(5, { "anything-but": 301.8 })).toBe(true);
      expect(on("running", { "anything-but": { wildcard: "run*" } })).toBe(false);
      expect(on("running", { "anything-but": { wildcard: "stop*" } })).toBe(true);
      expect(on("running", { "anything-but": { "equals-ignore-case": ["STOPPED", "RUNNING"] } })).toBe(false);
      expect(on("running", { "anything-but": { "equals-ignore-case": ["STOPPED", "PENDING"] } })).toBe(true);
      // A string operator never excludes a number.
      expect(on(5, { "anything-but": { "equals-ignore-case": "5" } })).toBe(true);
      expect(on(5, { "anything-but": { prefix: "5" } })).toBe(true);
    });

    it("matches nothing in a value where the pattern expects an object, and nothing in an event that is not one", () => {
      expect(matchesPattern({ detail: { state: { name: ["running"] } } }, ec2)).toBe(false);
      for (const event of [null, "aws.ec2", ["aws.ec2"], 5]) {
        expect(matchesPattern({ source: ["aws.ec2"] }, event)).toBe(false);
      }
    });
  });

  describe("validation, every construct", () => {
    it.each([
      ["pattern: a pattern is an object", null],
      ["pattern: a pattern is an object", ["source"]],
      ["pattern.detail: empty", { detail: {} }],
      ["pattern.detail.state: values to match go in a list", { detail: { state: "running" } }],
      ["pattern.$or[1].source: values to match go in a list", { $or: [{ source: ["a"] }, { source: "b" }] }],
      ["pattern.$or[0]: a pattern is an object", { $or: ["a", { source: ["b"] }] }],
      ["pattern.source: a condition is a value or an object", { source: [["aws.ec2"]] }],
      ["pattern.source: prefix takes a non-empty string", { source: [{ prefix: 5 }] }],
      ["pattern.source: prefix takes a non-empty string", { source: [{ prefix: {} }] }],
      [
        "pattern.source: suffix takes a non-empty string",
        { source: [{ suffix: { "equals-ignore-case": "" } }] },
      ],
      ["pattern.source: wildcard takes a string", { source: [{ wildcard: 5 }] }],
      ["pattern.source: equals-ignore-case takes a string", { source: [{ "equals-ignore-case": ["a"] }] }],
      ["pattern.source: numeric takes a list", { source: [{ numeric: [] }] }],
      ["pattern.source: numeric takes a list", { source: [{ numeric: ">" }] }],
      [
        "pattern.source: anything-but takes a list of strings or of numbers",
        { source: [{ "anything-but": [] }] },
      ],
      [
        "pattern.source: anything-but takes a value, a list or an object",
        { source: [{ "anything-but": true }] },
      ],
      [
        "pattern.source: anything-but takes prefix, suffix, wildcard or equals-ignore-case",
        { source: [{ "anything-but": { prefix: "a", suffix: "b" } }] },
      ],
      [
        "pattern.source: anything-but prefix takes a non-empty string",
        { source: [{ "anything-but": { prefix: "" } }] },
      ],
      [
        "pattern.source: anything-but prefix takes a non-empty string",
        { source: [{ "anything-but": { prefix: ["a"] } }] },
      ],
      [
        "pattern.source: anything-but equals-ignore-case takes a non-empty string",
        { source: [{ "anything-but": { "equals-ignore-case": 5 } }] },
      ],
    ])("says %s", (message, pattern) => {
      expect(() => validatePattern(pattern)).toThrow(new Error(message));
    });
  });
});
