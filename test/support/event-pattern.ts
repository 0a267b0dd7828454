/**
 * A small EventBridge event-pattern matcher for tests: the subset of the pattern language the templates use
 * (exact values, prefix, suffix, equals-ignore-case, wildcard, anything-but with a value, a list, a prefix or a
 * suffix, exists, numeric, and `$or`), following the EventBridge user guide ("Event patterns", "Comparison
 * operators") and the open-source Event Ruler that implements it. No maintained implementation exists for
 * Node.js. Anything outside the subset is an error, never a silent "no match".
 *
 * Arrays of objects in an event are where matchers disagree, so there are two modes:
 * - `consistent`: every field matched under one array must come from the same element (Event Ruler's
 *   `rulesForJSONEvent`);
 * - `flattened`: each field is matched against the values of that field in any element (the array is
 *   "crushed out": Event Ruler's older `rulesForEvent`, and how the EventBridge guide describes arrays).
 * `flattened` matches everything `consistent` does and more, so a pattern that must match an event is tested
 * in `consistent` mode and one that must not in `flattened` mode: then the result holds whichever EventBridge
 * applies.
 */

export type ArrayMode = "consistent" | "flattened";

type Scalar = string | number | boolean | null;
type Pattern = { [key: string]: unknown };

const OPERATORS = new Set([
  "prefix",
  "suffix",
  "equals-ignore-case",
  "wildcard",
  "anything-but",
  "exists",
  "numeric",
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/** Throws with the path of the first construct outside the supported, valid subset. */
export function validatePattern(pattern: unknown, path = "pattern"): void {
  if (!isPlainObject(pattern)) throw new Error(`${path}: a pattern is an object`);
  // An empty object, at any level, would match anything here: EventBridge has no such pattern.
  if (Object.keys(pattern).length === 0) throw new Error(`${path}: empty`);
  for (const [key, value] of Object.entries(pattern)) {
    const at = `${path}.${key}`;
    if (key === "$or") {
      if (!Array.isArray(value) || value.length < 2) throw new Error(`${at}: $or takes two or more patterns`);
      value.forEach((branch, i) => {
        validatePattern(branch, `${at}[${i}]`);
      });
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new Error(`${at}: an empty list matches nothing`);
      for (const condition of value) validateCondition(condition, at);
    } else if (isPlainObject(value)) {
      validatePattern(value, at);
    } else {
      throw new Error(`${at}: values to match go in a list`);
    }
  }
}

function validateCondition(condition: unknown, at: string): void {
  if (isScalar(condition)) return;
  if (!isPlainObject(condition)) throw new Error(`${at}: a condition is a value or an object`);
  const keys = Object.keys(condition);
  const [op] = keys;
  if (keys.length !== 1 || op === undefined || !OPERATORS.has(op)) {
    throw new Error(`${at}: unsupported condition ${JSON.stringify(condition)}`);
  }
  const arg = condition[op];
  const nonEmptyString = (v: unknown) => typeof v === "string" && v !== "";
  switch (op) {
    case "prefix":
    case "suffix":
      if (!nonEmptyString(arg) && !(isPlainObject(arg) && nonEmptyString(arg["equals-ignore-case"]))) {
        throw new Error(`${at}: ${op} takes a non-empty string`);
      }
      return;
    case "equals-ignore-case":
    case "wildcard":
      if (typeof arg !== "string") throw new Error(`${at}: ${op} takes a string`);
      if (op === "wildcard" && arg.includes("**")) throw new Error(`${at}: consecutive wildcards`);
      return;
    case "exists":
      if (typeof arg !== "boolean") throw new Error(`${at}: exists takes true or false`);
      return;
    case "numeric":
      if (!Array.isArray(arg) || arg.length === 0) throw new Error(`${at}: numeric takes a list`);
      return;
    case "anything-but": {
      if (typeof arg === "string" || typeof arg === "number") return;
      if (Array.isArray(arg)) {
        const strings = arg.every((v) => typeof v === "string");
        const numbers = arg.every((v) => typeof v === "number");
        if (arg.length === 0 || !(strings || numbers)) {
          throw new Error(`${at}: anything-but takes a list of strings or of numbers`);
        }
        return;
      }
      if (isPlainObject(arg)) {
        const inner = Object.keys(arg);
        const [innerOp] = inner;
        if (
          inner.length !== 1 ||
          innerOp === undefined ||
          !["prefix", "suffix", "wildcard", "equals-ignore-case"].includes(innerOp)
        ) {
          throw new Error(`${at}: anything-but takes prefix, suffix, wildcard or equals-ignore-case`);
        }
        const value = arg[innerOp];
        const ok =
          innerOp === "equals-ignore-case"
            ? typeof value === "string" || Array.isArray(value)
            : nonEmptyString(value);
        if (!ok) throw new Error(`${at}: anything-but ${innerOp} takes a non-empty string`);
        return;
      }
      throw new Error(`${at}: anything-but takes a value, a list or an object`);
    }
    default:
      throw new Error(`${at}: unsupported operator ${op}`);
  }
}

function wildcardRegExp(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) {
      source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    } else if (c === "*") source += ".*";
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

function stringOp(op: string, arg: unknown, value: Scalar): boolean {
  if (typeof value !== "string") return false;
  const ignoreCase = isPlainObject(arg);
  const needle = String(ignoreCase ? arg["equals-ignore-case"] : arg);
  const hay = ignoreCase ? value.toLowerCase() : value;
  const n = ignoreCase ? needle.toLowerCase() : needle;
  switch (op) {
    case "prefix":
      return hay.startsWith(n);
    case "suffix":
      return hay.endsWith(n);
    case "equals-ignore-case":
      return value.toLowerCase() === needle.toLowerCase();
    case "wildcard":
      return wildcardRegExp(needle).test(value);
    default:
      throw new Error(`unsupported string operator ${op}`);
  }
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  "=": (a, b) => a === b,
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
};

function numericMatch(spec: unknown[], value: Scalar): boolean {
  if (typeof value !== "number") return false;
  for (let i = 0; i < spec.length; i += 2) {
    const compare = COMPARE[String(spec[i])];
    const bound = spec[i + 1];
    if (!compare) throw new Error(`unsupported numeric operator ${String(spec[i])}`);
    if (typeof bound !== "number") throw new Error("numeric bounds are numbers");
    if (!compare(value, bound)) return false;
  }
  return true;
}

/** One condition against one value that is present in the event. */
function conditionMatches(condition: unknown, value: Scalar): boolean {
  if (isScalar(condition)) return condition === value;
  const [op, arg] = Object.entries(condition as Record<string, unknown>)[0] ?? [];
  switch (op) {
    case "exists":
      return arg === true;
    case "numeric":
      return numericMatch(arg as unknown[], value);
    case "anything-but": {
      if (Array.isArray(arg)) return !arg.includes(value as string | number);
      if (isPlainObject(arg)) {
        const [innerOp, innerArg] = Object.entries(arg)[0] ?? [];
        if (typeof value !== "string") return true;
        if (innerOp === "equals-ignore-case") {
          const list = Array.isArray(innerArg) ? innerArg : [innerArg];
          return !list.some((v) => String(v).toLowerCase() === value.toLowerCase());
        }
        return !stringOp(String(innerOp), innerArg, value);
      }
      return arg !== value;
    }
    default:
      return stringOp(String(op), arg, value);
  }
}

/** The scalars under a field: arrays (of any depth) are unwrapped; objects are not values. */
function scalarsOf(values: unknown[]): Scalar[] {
  const out: Scalar[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isScalar(v)) out.push(v);
  };
  values.forEach(walk);
  return out;
}

function objectsOf(values: unknown[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isPlainObject(v)) out.push(v);
  };
  values.forEach(walk);
  return out;
}

function leafMatches(conditions: unknown[], values: Scalar[]): boolean {
  return conditions.some((condition) => {
    if (isPlainObject(condition) && condition.exists === false) return values.length === 0;
    return values.some((value) => conditionMatches(condition, value));
  });
}

function matchAt(pattern: Pattern, nodes: Record<string, unknown>[], mode: ArrayMode): boolean {
  for (const [key, spec] of Object.entries(pattern)) {
    if (key === "$or") {
      if (!(spec as Pattern[]).some((branch) => matchAt(branch, nodes, mode))) return false;
      continue;
    }
    const children = nodes.flatMap((node) => (key in node ? [node[key]] : []));
    if (Array.isArray(spec)) {
      if (!leafMatches(spec, scalarsOf(children))) return false;
      continue;
    }
    const objects = objectsOf(children);
    const sub = spec as Pattern;
    const ok =
      mode === "flattened" || objects.length <= 1
        ? matchAt(sub, objects, mode)
        : objects.some((object) => matchAt(sub, [object], mode));
    if (!ok) return false;
  }
  return true;
}

/** Whether `event` matches `pattern` (validated first: an invalid pattern throws). */
export function matchesPattern(pattern: unknown, event: unknown, mode: ArrayMode = "consistent"): boolean {
  validatePattern(pattern);
  if (!isPlainObject(event)) return false;
  return matchAt(pattern as Pattern, [event], mode);
}
