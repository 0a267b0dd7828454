import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, Tag } from "@aws-sdk/client-ecs";
import { InvalidInputError } from "./errors.ts";
import { checkDepth, isObject, kindOf, tagProblem, validateDefinition } from "./validate.ts";

/**
 * A RegisterTaskDefinition input as JSON. Fields this code does not know (new ECS features) are kept
 * and passed through untouched, hence the index signatures.
 */
export type Container = ContainerDefinition & { name: string; [field: string]: unknown };
export type TaskDefinitionInput = Omit<RegisterTaskDefinitionCommandInput, "containerDefinitions"> & {
  family: string;
  containerDefinitions: Container[];
  [field: string]: unknown;
};

/** Returned by DescribeTaskDefinition but rejected by RegisterTaskDefinition. */
export const READ_ONLY_FIELDS = [
  "taskDefinitionArn",
  "revision",
  "status",
  "requiresAttributes",
  "compatibilities",
  "registeredAt",
  "registeredBy",
  "deregisteredAt",
] as const;

export interface NormalizedDefinition {
  definition: TaskDefinitionInput;
  /** Known when the input was a described revision. */
  sourceArn?: string;
  sourceRevision?: number;
  /** Tags ECS will not accept in a request (reserved `aws:` keys), dropped with a warning. */
  droppedTags: string[];
}

const RESERVED_TAG = /^aws:/i;

function readTags(value: unknown, where: string): Tag[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw new InvalidInputError(`${where} must be an array of {key, value}, got ${kindOf(value)}`);
  return value.map((tag, i) => {
    if (!isObject(tag) || typeof tag.key !== "string") {
      throw new InvalidInputError(`${where}[${i}] must be an object with a string "key"`);
    }
    if (tag.value !== undefined && typeof tag.value !== "string") {
      throw new InvalidInputError(`${where}[${i}] (${tag.key}) has a value that is not a string`);
    }
    const problem = tagProblem(tag.key, tag.value, `${where}[${i}]`);
    if (problem !== undefined) throw new InvalidInputError(problem);
    return tag as Tag;
  });
}

/** Each container an object with a name, no name twice (containers are referred to by name). */
export function checkContainerList(containers: readonly unknown[], where: string): void {
  containers.forEach((c, i) => {
    if (!isObject(c)) throw new InvalidInputError(`${where}[${i}] is ${kindOf(c)}, expected an object`);
    if (c.name === undefined || c.name === null || c.name === "")
      throw new InvalidInputError(`${where}[${i}] has no "name"`);
  });
  const names = containers.map((c) => (c as Container).name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new InvalidInputError(`two containers are named "${duplicate}"`);
}

/**
 * Task memory and cpu are strings in the API (the AWS CLI refuses numbers); CloudFormation and Terraform
 * users write numbers. A whole number is written as the string ECS would store (512 -> "512").
 */
function sizesAsStrings(definition: Record<string, unknown>): void {
  for (const field of ["memory", "cpu"]) {
    if (typeof definition[field] === "number") definition[field] = String(definition[field]);
  }
}

/**
 * Accepts a RegisterTaskDefinition input, a DescribeTaskDefinition output ({taskDefinition, tags}) or a
 * bare described task definition, and returns a RegisterTaskDefinition input. Only the read-only
 * fields are dropped; everything else is kept as it is.
 */
export function normalize(value: unknown): NormalizedDefinition {
  if (Array.isArray(value))
    throw new InvalidInputError(
      "not a task definition: got an array; a bare containerDefinitions array (Terraform's container_definitions) is accepted by the dns-cache CLI, the injector needs a whole task definition",
    );
  if (!isObject(value))
    throw new InvalidInputError(`not a task definition: expected a JSON object, got ${kindOf(value)}`);
  checkDepth(value);

  let body: Record<string, unknown> = value;
  let tagsValue: unknown = value.tags;
  let tagsWhere = "tags";
  let at = "";
  if ("taskDefinition" in value) {
    if (!isObject(value.taskDefinition)) {
      throw new InvalidInputError(
        `not a task definition: "taskDefinition" is ${kindOf(value.taskDefinition)}, expected an object`,
      );
    }
    body = value.taskDefinition;
    // DescribeTaskDefinition puts tags beside the definition, not in it.
    tagsValue = value.tags ?? body.tags;
    tagsWhere = value.tags !== undefined ? "tags" : "taskDefinition.tags";
    at = "taskDefinition.";
  }

  const containers = body.containerDefinitions;
  if (containers === undefined) {
    throw new InvalidInputError(
      'not a task definition: it has no "containerDefinitions" (give a RegisterTaskDefinition input or a DescribeTaskDefinition output)',
    );
  }
  if (!Array.isArray(containers) || containers.length === 0) {
    throw new InvalidInputError(
      `${at}containerDefinitions must be a non-empty array of container definitions, got ${kindOf(containers)}`,
    );
  }
  checkContainerList(containers, `${at}containerDefinitions`);
  if (body.family === undefined || body.family === null || body.family === "") {
    throw new InvalidInputError('not a task definition: it has no "family"');
  }
  validateDefinition(body, at);

  // fromEntries defines own properties, so even a "__proto__" key is carried over as data.
  const definition: Record<string, unknown> = Object.fromEntries(
    Object.entries(body)
      .filter(
        ([key]) =>
          !(READ_ONLY_FIELDS as readonly string[]).includes(key) && key !== "$metadata" && key !== "tags",
      )
      .map(([key, field]) => [key, structuredClone(field)]),
  );
  const allTags = readTags(tagsValue, tagsWhere);
  const droppedTags = allTags.filter((t) => RESERVED_TAG.test(t.key ?? "")).map((t) => t.key ?? "");
  const keptTags = allTags.filter((t) => !RESERVED_TAG.test(t.key ?? ""));
  if (tagsValue !== undefined && tagsValue !== null) definition.tags = keptTags.map((t) => ({ ...t }));
  sizesAsStrings(definition);

  const result: NormalizedDefinition = { definition: definition as TaskDefinitionInput, droppedTags };
  if (typeof body.taskDefinitionArn === "string") result.sourceArn = body.taskDefinitionArn;
  if (typeof body.revision === "number") result.sourceRevision = body.revision;
  return result;
}
