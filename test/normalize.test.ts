/**
 * Reading the three input forms (shared/engine/task-definition.ts): the exact input error each malformed
 * shape gets, where tags are read from in a DescribeTaskDefinition output, and what is carried over.
 */
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "#shared/engine/errors.ts";
import { normalize } from "#shared/engine/task-definition.ts";

const app = { name: "app", image: "nginx:1.27" };
const body = { family: "app", networkMode: "awsvpc", containerDefinitions: [app] };

function inputError(value: unknown): string {
  try {
    normalize(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error).toMatchObject({ name: "InvalidInputError", reason: "INVALID_INPUT" });
    return (error as Error).message;
  }
  throw new Error("expected an input error");
}

describe("input errors name what is wrong and where", () => {
  it.each([
    ["a number", 42, "not a task definition: expected a JSON object, got number 42"],
    [
      "a described output whose taskDefinition is an array",
      { taskDefinition: [] },
      'not a task definition: "taskDefinition" is an array, expected an object',
    ],
    [
      "containers as an object, inside a described output",
      { taskDefinition: { ...body, containerDefinitions: { app } } },
      "taskDefinition.containerDefinitions must be a non-empty array of container definitions, got an object",
    ],
    [
      "a container that is not an object",
      { ...body, containerDefinitions: [app, "sidecar"] },
      'containerDefinitions[1] is a string ("sidecar"), expected an object',
    ],
    [
      "a container with an empty name",
      { ...body, containerDefinitions: [{ ...app, name: "" }] },
      'containerDefinitions[0] has no "name"',
    ],
    [
      "a container with a null name",
      { ...body, containerDefinitions: [{ ...app, name: null }] },
      'containerDefinitions[0] has no "name"',
    ],
    ["an empty family", { ...body, family: "" }, 'not a task definition: it has no "family"'],
    ["a null family", { ...body, family: null }, 'not a task definition: it has no "family"'],
    [
      "tags inside a described task definition",
      { taskDefinition: { ...body, tags: "team=a" } },
      'taskDefinition.tags must be an array of {key, value}, got a string ("team=a")',
    ],
    [
      "tags beside a described task definition",
      { taskDefinition: body, tags: "team=a" },
      'tags must be an array of {key, value}, got a string ("team=a")',
    ],
    [
      "a tag without a key",
      { ...body, tags: [{ value: "a" }] },
      'tags[0] must be an object with a string "key"',
    ],
    ["a tag that is a string", { ...body, tags: ["team"] }, 'tags[0] must be an object with a string "key"'],
    [
      "a tag value that is a number",
      {
        ...body,
        tags: [
          { key: "team", value: "a" },
          { key: "cost", value: 7 },
        ],
      },
      "tags[1] (cost) has a value that is not a string",
    ],
    [
      "a tag value over 256 characters",
      { ...body, tags: [{ key: "team", value: "a".repeat(257) }] },
      "tags[0] (team) value is over 256 characters",
    ],
    [
      "a tag key with characters ECS refuses",
      { ...body, tags: [{ key: "team#1", value: "a" }] },
      'tags[0] key "team#1" has characters ECS refuses in tags',
    ],
    [
      "an empty tag key",
      { ...body, tags: [{ key: "", value: "a" }] },
      "tags[0] key must be 1 to 128 characters, got 0",
    ],
  ])("%s", (_, value, message) => {
    expect(inputError(value)).toBe(message);
  });
});

describe("what is read and carried over", () => {
  it("a described output's tags beside the definition win; inside it they are read when none are beside", () => {
    const inside = [{ key: "team", value: "inside" }];
    const beside = [{ key: "team", value: "beside" }];
    expect(normalize({ taskDefinition: { ...body, tags: inside } }).definition.tags).toEqual(inside);
    expect(normalize({ taskDefinition: { ...body, tags: inside }, tags: beside }).definition.tags).toEqual(
      beside,
    );
  });

  it("null tags and an SDK response's $metadata are not carried into the request", () => {
    const { definition } = normalize({ ...body, tags: null, $metadata: { httpStatusCode: 200 } });
    expect(definition).toStrictEqual(body);
  });

  it("a tag without a value stays valid and keeps no value", () => {
    const { definition } = normalize({ ...body, tags: [{ key: "team" }] });
    expect(definition.tags).toStrictEqual([{ key: "team" }]);
  });

  it("the source ARN and revision only come from values of the right type", () => {
    const odd = normalize({ ...body, taskDefinitionArn: 7, revision: "7" });
    expect(odd.sourceArn).toBeUndefined();
    expect(odd.sourceRevision).toBeUndefined();
    expect(odd.definition).toStrictEqual(body);
  });
});
