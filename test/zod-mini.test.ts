/**
 * shared/runtime/schema.ts: each zod/mini check the event parsers use gives the issues and English messages
 * of the classic API they replaced (importing classic "zod" sets the same English locale).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as classic from "zod";
import * as z from "#shared/runtime/schema.ts";

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
