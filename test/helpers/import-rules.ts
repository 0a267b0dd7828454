/**
 * The import rules of the layout (as Kubernetes' import-boss does): each layer of shared/ says what it may
 * import, and imports go one way: handlers → flows → adapters / engine. Imports are read from each file's
 * syntax tree (every import and export form, type-only ones included, and dynamic import()), not its text.
 */
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

/** Every module a file names: import/export declarations, `import x = require()`, and import() calls. */
export function importsOf(fileName: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: ImportRef[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      out.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      out.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      out.push({ specifier: node.moduleReference.expression.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined
    ) {
      const arg = node.arguments[0];
      // A computed specifier cannot be checked: it is itself a violation.
      out.push({ specifier: ts.isStringLiteralLike(arg) ? arg.text : "<computed>", typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const lit = node.argument.literal;
      if (ts.isStringLiteral(lit)) out.push({ specifier: lit.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The layer of a project file, from its path: the layout states what each may do. */
export function layerOf(path: string): string | undefined {
  const m = /^shared\/([^/]+)\//.exec(path);
  if (m) return m[1];
  if (/^functions\/[^/]+\//.test(path)) return "functions";
  if (path.startsWith("bin/")) return "bin";
  return undefined;
}

/** Flows: one folder per function's flow under shared/. */
const FLOWS = ["injector", "health", "enforcer"];
/** Flows that register copies: they share the one path that makes or finds them (shared/copies). */
const COPYING_FLOWS = ["injector", "enforcer"];

interface Rule {
  /** Project layers this layer may import (its own always). */
  layers: string[];
  /** External packages (prefixes) it may import with value imports; node: builtins separately. */
  packages: string[];
  /** Packages it may import for their types only (erased at build: nothing of them is loaded). */
  typePackages?: string[];
  /** node: builtins it may import; "*" for any. */
  builtins: string[] | "*";
}

const SDK = ["@aws-sdk/", "@smithy/"];
const POWERTOOLS = ["@aws-lambda-powertools/"];
const LAMBDA_TYPES = ["aws-lambda"];
// zod/mini and its English locale only, through shared/runtime/schema.ts: classic "zod" is half a bundle.
const ZOD = ["zod/mini", "zod/locales"];

export const RULES: Record<string, Rule> = {
  // Pure: no I/O, no SDK, nothing outside the engine. Hashing and IP parsing are computations.
  engine: {
    layers: [],
    packages: [],
    typePackages: ["@aws-sdk/client-ecs"],
    builtins: ["node:crypto", "node:net"],
  },
  // What every function shares at run time: settings from the environment, logs and metrics, SQS records,
  // ARNs, bounded concurrency, zod for the event parsers. No AWS calls.
  runtime: { layers: [], packages: [...POWERTOOLS, ...ZOD], typePackages: LAMBDA_TYPES, builtins: [] },
  // Adapters: AWS calls, each taking its client. Never a flow.
  aws: {
    layers: ["engine", "runtime"],
    packages: [...SDK, "@aws-lambda-powertools/idempotency"],
    typePackages: LAMBDA_TYPES,
    builtins: ["node:crypto", "node:stream"],
  },
  // The CLI: the engine and the file system, no AWS at all.
  cli: { layers: ["engine"], packages: ["jsonc-parser"], builtins: ["node:fs/promises", "node:util"] },
  // "Make or find the injected copy of exactly revision N": engine plus adapters, no logs, no flow.
  copies: { layers: ["engine", "runtime", "aws"], packages: [], typePackages: SDK, builtins: [] },
  ...Object.fromEntries(
    FLOWS.map((flow) => [
      flow,
      {
        layers: ["engine", "runtime", "aws", ...(COPYING_FLOWS.includes(flow) ? ["copies"] : [])],
        packages: ["@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics"],
        typePackages: [...SDK, ...POWERTOOLS, ...LAMBDA_TYPES],
        builtins: [],
      } satisfies Rule,
    ]),
  ),
  // Handlers wire config, adapters and flows; they may use everything but the CLI.
  functions: {
    layers: ["engine", "runtime", "aws", ...FLOWS],
    packages: [...SDK, ...POWERTOOLS, "@middy/core"],
    typePackages: LAMBDA_TYPES,
    builtins: [],
  },
  bin: { layers: ["cli"], packages: [], builtins: [] },
};

/** The project path a relative or #shared/ specifier names; undefined for packages. */
export function projectTarget(fromPath: string, specifier: string): string | undefined {
  if (specifier.startsWith("#shared/")) return `shared/${specifier.slice("#shared/".length)}`;
  if (specifier.startsWith(".")) return relative(ROOT, resolve(ROOT, dirname(fromPath), specifier));
  return undefined;
}

/** The rules a file breaks, one sentence each. */
export function violations(path: string, text: string): string[] {
  const layer = layerOf(path);
  if (layer === undefined) return [];
  const rule = RULES[layer];
  if (!rule)
    return [`${path}: shared/${layer}/ is not a layer of the layout; add it to RULES with its imports`];
  const out: string[] = [];
  for (const { specifier, typeOnly } of importsOf(path, text)) {
    const target = projectTarget(path, specifier);
    if (target !== undefined) {
      const targetLayer = layerOf(target);
      if (targetLayer === layer && (layer !== "functions" || dirname(target) === dirname(path))) continue;
      if (targetLayer !== undefined && rule.layers.includes(targetLayer)) continue;
      out.push(`${path}: ${layer} may not import ${target} (${targetLayer ?? "outside the layers"})`);
      continue;
    }
    if (specifier.startsWith("node:")) {
      if (rule.builtins === "*" || rule.builtins.includes(specifier)) continue;
      out.push(`${path}: ${layer} may not import the builtin ${specifier}`);
      continue;
    }
    const allowed = (prefixes: readonly string[]) =>
      prefixes.some((p) => specifier === p || specifier.startsWith(p.endsWith("/") ? p : `${p}/`));
    if (allowed(rule.packages)) continue;
    if (typeOnly && allowed(rule.typePackages ?? [])) continue;
    out.push(`${path}: ${layer} may not import ${typeOnly ? "the types of " : ""}${specifier}`);
  }
  return out;
}
