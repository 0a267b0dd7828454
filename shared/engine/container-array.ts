/**
 * A bare containerDefinitions array: the form Terraform's `container_definitions` takes. The array is
 * injected as part of an awsvpc task definition whose other fields are unknown; what the sidecars need
 * from the task definition around it (their volume, awsvpc, enough memory) is returned as notes.
 */
import { VOLUME } from "./constants.ts";
import { InvalidInputError } from "./errors.ts";
import { type InjectContext, type InjectResult, injectNormalized } from "./inject.ts";
import { type Container, checkContainerList, type TaskDefinitionInput } from "./task-definition.ts";
import { checkDepth, validateContainers } from "./validate.ts";

export interface ContainerArrayInjection {
  /** When injected, `definition.containerDefinitions` is the array to print. */
  result: InjectResult;
  /** What the surrounding task definition must provide, for the user to read. */
  notes: string[];
}

export function injectContainerArray(
  value: readonly unknown[],
  context: InjectContext = {},
): ContainerArrayInjection {
  if (value.length === 0) {
    throw new InvalidInputError(
      "an empty array: give a task definition, or a non-empty containerDefinitions array (Terraform's container_definitions)",
    );
  }
  checkDepth(value);
  checkContainerList(value, "");
  validateContainers(value);
  const definition: TaskDefinitionInput = {
    family: "container-definitions",
    networkMode: "awsvpc",
    containerDefinitions: structuredClone(value) as Container[],
  };
  const result = injectNormalized({ definition, droppedTags: [] }, context);
  if (result.outcome === "refused") return { result, notes: [] };
  const containers = result.definition.containerDefinitions;
  // No marker tags to compare: the array is up to date when injecting it changes nothing.
  result.upToDate = JSON.stringify(containers) === JSON.stringify(value);
  const needed = Math.max(
    result.memory.containers + result.memory.added,
    ...containers.map((c) => c.memory ?? 0),
  );
  const notes = [
    `add the volume the dns-cache containers share to the task definition: volume { name = "${VOLUME}" } in Terraform's aws_ecs_task_definition ("volumes": [{"name": "${VOLUME}"}] in JSON)`,
    'the task definition must use network_mode = "awsvpc" (every Fargate task does): the containers must share one network namespace and resolv.conf',
    `task memory is not in a containerDefinitions array, so the memory check was skipped: the containers reserve ${result.memory.containers} MiB and dns-cache adds ${result.memory.added} MiB, so the task's memory must be at least ${needed} MiB`,
    "options come from flags only: a containerDefinitions array carries no dns-cache:* tags",
  ];
  return { result, notes };
}
