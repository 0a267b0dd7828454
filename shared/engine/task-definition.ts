import type { ContainerDefinition, RegisterTaskDefinitionCommandInput, Tag } from "@aws-sdk/client-ecs";
import { InvalidInputError } from "./errors.ts";

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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return `a ${typeof value}`;
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
    return tag as Tag;
  });
}

/**
 * Accepts a RegisterTaskDefinition input, a DescribeTaskDefinition output ({taskDefinition, tags}) or a
 * bare described task definition, and returns a RegisterTaskDefinition input. Only the read-only
 * fields are dropped; everything else is kept as it is.
 */
export function normalize(value: unknown): NormalizedDefinition {
  if (!isObject(value))
    throw new InvalidInputError(`not a task definition: expected a JSON object, got ${kindOf(value)}`);

  let body: Record<string, unknown> = value;
  let tagsValue: unknown = value.tags;
  let tagsWhere = "tags";
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
  }

  const containers = body.containerDefinitions;
  if (containers === undefined) {
    throw new InvalidInputError(
      'not a task definition: it has no "containerDefinitions" (give a RegisterTaskDefinition input or a DescribeTaskDefinition output)',
    );
  }
  if (!Array.isArray(containers) || containers.length === 0) {
    throw new InvalidInputError('"containerDefinitions" must be a non-empty array of container definitions');
  }
  containers.forEach((c, i) => {
    if (!isObject(c))
      throw new InvalidInputError(`containerDefinitions[${i}] is ${kindOf(c)}, expected an object`);
    if (typeof c.name !== "string" || c.name === "")
      throw new InvalidInputError(`containerDefinitions[${i}] has no "name"`);
  });
  const names = containers.map((c) => (c as Container).name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new InvalidInputError(`two containers are named "${duplicate}"`);
  if (typeof body.family !== "string" || body.family === "") {
    throw new InvalidInputError('not a task definition: it has no "family"');
  }

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

  const result: NormalizedDefinition = { definition: definition as TaskDefinitionInput, droppedTags };
  if (typeof body.taskDefinitionArn === "string") result.sourceArn = body.taskDefinitionArn;
  if (typeof body.revision === "number") result.sourceRevision = body.revision;
  return result;
}
