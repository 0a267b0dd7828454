/**
 * CloudFormation templates for tests: YAML with the short-form intrinsic tags (`!Ref`, `!Sub`, …) parsed into
 * their long forms, and a resolver that evaluates the intrinsics for given parameter values, so tests can
 * look at what CloudFormation would create (conditions applied, `AWS::NoValue` removed, ARNs filled in).
 *
 * Physical names are made up but stable: `Ref` of a resource is `<stack>-<LogicalId>` (a queue's is its URL),
 * and `Fn::GetAtt … .Arn` builds the ARN a resource of that type would have.
 */
import { readFileSync } from "node:fs";
import { parse, type Tags } from "yaml";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const FUNCTIONS = [
  "Base64",
  "Cidr",
  "FindInMap",
  "GetAtt",
  "GetAZs",
  "ImportValue",
  "Join",
  "Select",
  "Split",
  "Sub",
  "If",
  "Equals",
  "Not",
  "And",
  "Or",
] as const;

function longName(short: string): string {
  return short === "Ref" || short === "Condition" ? short : `Fn::${short}`;
}

/** One tag per short form and node kind: `!Sub "…"`, `!Sub [ … ]`, `!If [ … ]`, `!GetAtt A.B`… */
export const CFN_TAGS: Tags = ["Ref", "Condition", ...FUNCTIONS].flatMap((short) => {
  const name = longName(short);
  return [
    {
      tag: `!${short}`,
      resolve: (value: string) =>
        short === "GetAtt"
          ? { [name]: [value.slice(0, value.indexOf(".")), value.slice(value.indexOf(".") + 1)] }
          : { [name]: value },
    },
    {
      tag: `!${short}`,
      collection: "seq" as const,
      resolve: (seq: { toJSON(): unknown }) => ({ [name]: seq.toJSON() }),
    },
    {
      tag: `!${short}`,
      collection: "map" as const,
      resolve: (map: { toJSON(): unknown }) => ({ [name]: map.toJSON() }),
    },
  ];
});

export function parseTemplate(text: string): JsonObject {
  const doc = parse(text, { customTags: CFN_TAGS, uniqueKeys: true, strict: true }) as unknown;
  if (!isObject(doc)) throw new Error("a template is a YAML mapping");
  return doc;
}

export function loadTemplate(url: URL): JsonObject {
  return parseTemplate(readFileSync(url, "utf8"));
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ------------------------------------------------------------------ resolving

export interface Pseudo {
  account: string;
  region: string;
  partition: string;
  stackName: string;
}

export const DEFAULT_PSEUDO: Pseudo = {
  account: "111111111111",
  region: "us-east-1",
  partition: "aws",
  stackName: "dns-cache",
};

export interface Resource {
  Type: string;
  Properties: JsonObject;
  Metadata?: JsonObject;
  DependsOn?: Json;
}

export interface Resolved {
  parameters: Record<string, string | string[]>;
  conditions: Record<string, boolean>;
  /** Only the resources whose condition holds, with every intrinsic evaluated. */
  resources: Record<string, Resource>;
  outputs: Record<string, Json>;
  globals: JsonObject;
  /** Ref of a resource (its made-up physical id). */
  ref(logicalId: string): string;
  /** Fn::GetAtt of a resource. */
  getAtt(logicalId: string, attribute: string): string;
}

const NO_VALUE = Symbol("AWS::NoValue");

/**
 * Evaluates a template for parameter values (defaults for the others). Throws on an intrinsic it does not
 * know, a missing parameter, or a reference to a resource that is not in the template: the templates
 * under test use a small subset, and anything else should be noticed.
 */
export function resolveTemplate(
  template: JsonObject,
  parameterValues: Record<string, string | string[]> = {},
  pseudo: Pseudo = DEFAULT_PSEUDO,
): Resolved {
  const declared = isObject(template.Parameters) ? template.Parameters : {};
  for (const name of Object.keys(parameterValues)) {
    if (!(name in declared)) throw new Error(`no parameter ${name}`);
  }
  const parameters: Record<string, string | string[]> = {};
  for (const [name, spec] of Object.entries(declared)) {
    if (!isObject(spec)) throw new Error(`parameter ${name} is not a mapping`);
    const given = parameterValues[name];
    const raw = given ?? (spec.Default === undefined ? undefined : String(spec.Default));
    if (raw === undefined) throw new Error(`parameter ${name} has no value and no default`);
    if (Array.isArray(spec.AllowedValues) && typeof raw === "string") {
      if (!spec.AllowedValues.map(String).includes(raw)) throw new Error(`${name}: "${raw}" is not allowed`);
    }
    if (typeof spec.AllowedPattern === "string" && typeof raw === "string") {
      if (!new RegExp(`^(?:${spec.AllowedPattern})$`).test(raw)) {
        throw new Error(`${name}: "${raw}" does not match ${spec.AllowedPattern}`);
      }
    }
    parameters[name] =
      spec.Type === "CommaDelimitedList" && typeof raw === "string"
        ? raw.split(",").map((s) => s.trim())
        : raw;
  }

  const resourcesIn = isObject(template.Resources) ? template.Resources : {};
  const typeOf = (id: string): string => {
    const r = resourcesIn[id];
    if (!isObject(r) || typeof r.Type !== "string") throw new Error(`no resource ${id}`);
    return r.Type;
  };
  const physical = (id: string) => `${pseudo.stackName}-${id}`;
  const { account, region, partition } = pseudo;
  const arnOf = (id: string): string => {
    const name = physical(id);
    const type = typeOf(id);
    switch (type) {
      case "AWS::SQS::Queue":
        return `arn:${partition}:sqs:${region}:${account}:${name}`;
      case "AWS::IAM::Role":
        return `arn:${partition}:iam::${account}:role/${name}`;
      case "AWS::DynamoDB::Table":
        return `arn:${partition}:dynamodb:${region}:${account}:table/${name}`;
      case "AWS::Logs::LogGroup":
        return `arn:${partition}:logs:${region}:${account}:log-group:${logGroupName(id)}:*`;
      case "AWS::Events::EventBus":
        return `arn:${partition}:events:${region}:${account}:event-bus/${eventBusName(id)}`;
      case "AWS::Events::Rule":
        return `arn:${partition}:events:${region}:${account}:rule/${name}`;
      case "AWS::Serverless::Function":
      case "AWS::Lambda::Function":
        return `arn:${partition}:lambda:${region}:${account}:function:${name}`;
      default:
        throw new Error(`no ARN known for ${type} (${id})`);
    }
  };
  const logGroupName = (id: string): string => {
    const props = (resourcesIn[id] as JsonObject).Properties;
    const name = isObject(props) ? props.LogGroupName : undefined;
    return name === undefined ? physical(id) : String(evaluate(name));
  };
  const eventBusName = (id: string): string => {
    const props = (resourcesIn[id] as JsonObject).Properties;
    return isObject(props) && props.Name !== undefined ? String(evaluate(props.Name)) : physical(id);
  };
  const ref = (name: string): string | string[] => {
    switch (name) {
      case "AWS::AccountId":
        return account;
      case "AWS::Region":
        return region;
      case "AWS::Partition":
        return partition;
      case "AWS::StackName":
        return pseudo.stackName;
      case "AWS::StackId":
        return `arn:${partition}:cloudformation:${region}:${account}:stack/${pseudo.stackName}/00000000-0000-0000-0000-000000000000`;
      case "AWS::URLSuffix":
        return "amazonaws.com";
      default:
    }
    const parameter = parameters[name];
    if (parameter !== undefined) return parameter;
    const type = typeOf(name);
    if (type === "AWS::SQS::Queue") return `https://sqs.${region}.amazonaws.com/${account}/${physical(name)}`;
    if (type === "AWS::Events::EventBus") return eventBusName(name);
    if (type === "AWS::Logs::LogGroup") return logGroupName(name);
    return physical(name);
  };
  const getAtt = (id: string, attribute: string): string => {
    const type = typeOf(id);
    if (attribute === "Arn") return arnOf(id);
    if (type === "AWS::SQS::Queue" && attribute === "QueueName") return physical(id);
    if (type === "AWS::SQS::Queue" && attribute === "QueueUrl") return String(ref(id));
    if (type === "AWS::IAM::Role" && attribute === "RoleId") return `AROA${id.toUpperCase()}`;
    if (type === "AWS::Events::EventBus" && attribute === "Name") return eventBusName(id);
    throw new Error(`no attribute ${attribute} known for ${type} (${id})`);
  };

  const conditionSpecs = isObject(template.Conditions) ? template.Conditions : {};
  const conditions: Record<string, boolean> = {};
  const evaluating = new Set<string>();
  const condition = (name: string): boolean => {
    const known = conditions[name];
    if (known !== undefined) return known;
    if (!(name in conditionSpecs)) throw new Error(`no condition ${name}`);
    if (evaluating.has(name)) throw new Error(`condition ${name} refers to itself`);
    evaluating.add(name);
    const value = evaluate(conditionSpecs[name] as Json);
    evaluating.delete(name);
    if (typeof value !== "boolean") throw new Error(`condition ${name} is not a boolean`);
    conditions[name] = value;
    return value;
  };

  const sub = (text: string, vars: Record<string, unknown>): string =>
    text.replace(/\$\{([^}]*)\}/g, (whole, expr: string) => {
      if (expr.startsWith("!")) return `\${${expr.slice(1)}}`;
      if (expr in vars) return String(vars[expr]);
      const dot = expr.indexOf(".");
      if (dot > 0 && !expr.startsWith("AWS::")) return getAtt(expr.slice(0, dot), expr.slice(dot + 1));
      const value = ref(expr);
      if (Array.isArray(value)) throw new Error(`\${${expr}} is a list: ${whole}`);
      return value;
    });

  function evaluate(node: Json): unknown {
    if (Array.isArray(node)) {
      return node.map((item) => evaluate(item)).filter((item) => item !== NO_VALUE);
    }
    if (!isObject(node)) return node;
    const keys = Object.keys(node);
    const key = keys[0];
    if (
      keys.length === 1 &&
      key !== undefined &&
      (key === "Ref" || key === "Condition" || key.startsWith("Fn::"))
    ) {
      const arg = node[key] as Json;
      const args = (): Json[] => {
        if (!Array.isArray(arg)) throw new Error(`${key} takes a list`);
        return arg;
      };
      switch (key) {
        case "Ref":
          return arg === "AWS::NoValue" ? NO_VALUE : ref(String(arg));
        case "Condition":
          return condition(String(arg));
        case "Fn::GetAtt": {
          const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(".");
          return getAtt(String(id), String(evaluate(attribute as Json)));
        }
        case "Fn::Sub": {
          if (typeof arg === "string") return sub(arg, {});
          const [text, vars] = args();
          const values: Record<string, unknown> = {};
          for (const [name, value] of Object.entries(isObject(vars) ? vars : {}))
            values[name] = evaluate(value);
          return sub(String(text), values);
        }
        case "Fn::If": {
          const [name, yes, no] = args();
          return evaluate((condition(String(name)) ? yes : no) as Json);
        }
        case "Fn::Equals": {
          const [a, b] = args().map((x) => evaluate(x));
          return JSON.stringify(a) === JSON.stringify(b);
        }
        case "Fn::Not": {
          const [a] = args().map((x) => evaluate(x));
          if (typeof a !== "boolean") throw new Error("Fn::Not takes a condition");
          return !a;
        }
        case "Fn::And":
          return args().every((x) => evaluate(x) === true);
        case "Fn::Or":
          return args().some((x) => evaluate(x) === true);
        case "Fn::Select": {
          const [index, list] = args();
          const items = evaluate(list as Json);
          if (!Array.isArray(items)) throw new Error("Fn::Select takes a list");
          const item = items[Number(evaluate(index as Json))];
          if (item === undefined) throw new Error(`Fn::Select: no item ${String(index)}`);
          return item;
        }
        case "Fn::Split": {
          const [separator, text] = args();
          return String(evaluate(text as Json)).split(String(separator));
        }
        case "Fn::Join": {
          const [separator, list] = args();
          const items = evaluate(list as Json);
          if (!Array.isArray(items)) throw new Error("Fn::Join takes a list");
          return items.join(String(separator));
        }
        default:
          throw new Error(`${key} is not supported by the test resolver`);
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const value = evaluate(v);
      if (value !== NO_VALUE) out[k] = value;
    }
    return out;
  }

  for (const name of Object.keys(conditionSpecs)) condition(name);
  // Rules: CloudFormation refuses the parameters before it creates anything when an assertion fails.
  for (const [name, rule] of Object.entries(isObject(template.Rules) ? template.Rules : {})) {
    if (!isObject(rule)) continue;
    if (rule.RuleCondition !== undefined && evaluate(rule.RuleCondition) !== true) continue;
    for (const assertion of Array.isArray(rule.Assertions) ? rule.Assertions : []) {
      if (isObject(assertion) && evaluate(assertion.Assert as Json) !== true)
        throw new Error(`rule ${name}: ${String(assertion.AssertDescription ?? "assertion failed")}`);
    }
  }

  const resources: Record<string, Resource> = {};
  for (const [id, spec] of Object.entries(resourcesIn)) {
    if (!isObject(spec)) throw new Error(`resource ${id} is not a mapping`);
    if (typeof spec.Condition === "string" && !condition(spec.Condition)) continue;
    const resource: Resource = {
      Type: String(spec.Type),
      Properties: (evaluate(spec.Properties ?? {}) ?? {}) as JsonObject,
    };
    if (isObject(spec.Metadata)) resource.Metadata = evaluate(spec.Metadata) as JsonObject;
    if (spec.DependsOn !== undefined) resource.DependsOn = spec.DependsOn;
    resources[id] = resource;
  }
  const outputs: Record<string, Json> = {};
  for (const [name, spec] of Object.entries(isObject(template.Outputs) ? template.Outputs : {})) {
    if (!isObject(spec)) continue;
    if (typeof spec.Condition === "string" && !condition(spec.Condition)) continue;
    outputs[name] = evaluate(spec.Value as Json) as Json;
  }
  const globals = isObject(template.Globals) ? (evaluate(template.Globals) as JsonObject) : {};
  return {
    parameters,
    conditions,
    resources,
    outputs,
    globals,
    ref: (id) => String(ref(id)),
    getAtt,
  };
}
