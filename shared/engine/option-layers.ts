/** Which value each option takes: defaults < deployment < the family's tags < flags, and where it came from. */
import { MARKER_KEYS } from "./constants.ts";
import {
  type InjectOptions,
  mergeOptions,
  OPTION_SPECS,
  type OptionName,
  optionsFromTags,
  type PartialOptions,
} from "./options.ts";
import type { TaskDefinitionInput } from "./task-definition.ts";

export interface OptionLayers {
  /** The deployment's settings (the Lambda's environment). */
  deployment?: PartialOptions;
  /** Set by the caller and stronger than tags (CLI flags). */
  explicit?: PartialOptions;
}

export type OptionSource = "default" | "deployment" | "tag" | "flag";

export interface ResolvedOptions {
  options: InjectOptions;
  sources: Record<OptionName, OptionSource>;
  /** Invalid tags and contradictions, each an INVALID_OPTION refusal. */
  errors: string[];
}

export function resolveOptions(definition: TaskDefinitionInput, layers: OptionLayers): ResolvedOptions {
  const fromTags = optionsFromTags(definition.tags ?? [], MARKER_KEYS);
  const options = mergeOptions(layers.deployment ?? {}, fromTags.options, layers.explicit ?? {});
  const sources = {} as Record<OptionName, OptionSource>;
  for (const s of OPTION_SPECS) {
    sources[s.name] =
      layers.explicit?.[s.key] !== undefined
        ? "flag"
        : fromTags.options[s.key] !== undefined
          ? "tag"
          : layers.deployment?.[s.key] !== undefined
            ? "deployment"
            : "default";
  }
  const errors = [...fromTags.errors];
  if (options.memoryLimit <= options.memoryReservation) {
    errors.push(
      `memory-limit (${options.memoryLimit} MiB) must be above memory (${options.memoryReservation} MiB)`,
    );
  }
  if (options.waitFor === "healthy" && !options.healthCheck) {
    errors.push(
      "wait-for healthy needs health-check on: ECS waits for HEALTHY only on a container with a health check",
    );
  }
  if (options.metricsPort !== null && options.metricsPort === options.healthPort) {
    errors.push(`metrics-port and health-port are both ${options.metricsPort}`);
  }
  return { options, sources, errors };
}
