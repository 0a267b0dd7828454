/**
 * The AWS calls a source file makes, read from its syntax tree (as import-rules.ts reads imports): every
 * binding imported from an @aws-sdk package, in any form (named, renamed with `as`, `import * as`, default,
 * `import x = require()`, `await import()`), then every `new …Command(` and `paginate…(` through those
 * bindings. The IAM check in infra.test.ts holds the templates' policies to what this finds; anything it
 * cannot map to an IAM action is an error, never silently skipped.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

/** IAM service prefix of each SDK package the code may use. */
export const IAM_PREFIX: Record<string, string> = {
  "client-ecs": "ecs",
  "client-sts": "sts",
  "client-eventbridge": "events",
  "client-dynamodb": "dynamodb",
  "client-cloudformation": "cloudformation",
  "client-organizations": "organizations",
};

/** A local name bound to an @aws-sdk package: one export of it, or the whole module. */
type Binding = { pkg: string; exported: string } | { pkg: string; namespace: true };

const SDK_PACKAGE = /^@aws-sdk\/([\w-]+)$/;

/** `await import("x")` or `import("x")`: the specifier, if `node` is one. */
function dynamicImportOf(node: ts.Expression | undefined): string | undefined {
  let e = node;
  while (e && (ts.isAwaitExpression(e) || ts.isParenthesizedExpression(e))) e = e.expression;
  if (
    e &&
    ts.isCallExpression(e) &&
    e.expression.kind === ts.SyntaxKind.ImportKeyword &&
    e.arguments[0] &&
    ts.isStringLiteralLike(e.arguments[0])
  ) {
    return e.arguments[0].text;
  }
  return undefined;
}

function bindName(out: Map<string, Binding>, local: ts.BindingName, pkg: string): void {
  if (ts.isIdentifier(local)) {
    out.set(local.text, { pkg, namespace: true });
    return;
  }
  if (!ts.isObjectBindingPattern(local)) return;
  for (const el of local.elements) {
    const exported = el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : undefined;
    if (ts.isIdentifier(el.name)) out.set(el.name.text, { pkg, exported: exported ?? el.name.text });
  }
}

/** Every local name bound to an @aws-sdk package in a file (type-only bindings excluded). */
function sdkBindings(source: ts.SourceFile): Map<string, Binding> {
  const out = new Map<string, Binding>();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const pkg = SDK_PACKAGE.exec(node.moduleSpecifier.text)?.[1];
      const clause = node.importClause;
      if (pkg && clause && !clause.isTypeOnly) {
        if (clause.name) out.set(clause.name.text, { pkg, namespace: true });
        const named = clause.namedBindings;
        if (named && ts.isNamespaceImport(named)) out.set(named.name.text, { pkg, namespace: true });
        if (named && ts.isNamedImports(named)) {
          for (const el of named.elements) {
            if (el.isTypeOnly) continue;
            out.set(el.name.text, { pkg, exported: (el.propertyName ?? el.name).text });
          }
        }
      }
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      !node.isTypeOnly &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      const pkg = SDK_PACKAGE.exec(node.moduleReference.expression.text)?.[1];
      if (pkg) out.set(node.name.text, { pkg, namespace: true });
    } else if (ts.isVariableDeclaration(node)) {
      const specifier = dynamicImportOf(node.initializer);
      const pkg = specifier === undefined ? undefined : SDK_PACKAGE.exec(specifier)?.[1];
      if (pkg) bindName(out, node.name, pkg);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** What `expr` names in an SDK package: `X` through a named binding, or `ns.X` through a namespace. */
function resolve(
  expr: ts.Expression,
  bindings: Map<string, Binding>,
): { pkg: string; name: string } | undefined {
  if (ts.isIdentifier(expr)) {
    const b = bindings.get(expr.text);
    return b && "exported" in b ? { pkg: b.pkg, name: b.exported } : undefined;
  }
  if (ts.isPropertyAccessExpression(expr) && ts.isIdentifier(expr.expression)) {
    const b = bindings.get(expr.expression.text);
    return b && "namespace" in b ? { pkg: b.pkg, name: expr.name.text } : undefined;
  }
  return undefined;
}

function iamAction(pkg: string, operation: string, where: string): string {
  const prefix = IAM_PREFIX[pkg];
  if (!prefix) throw new Error(`${where}: no IAM prefix known for @aws-sdk/${pkg}: add it to IAM_PREFIX`);
  return `${prefix}:${operation}`;
}

/** The IAM actions of the SDK commands a file sends (`new XCommand(`, `paginateX(`), in source order. */
export function sdkActions(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const bindings = sdkBindings(source);
  const actions: string[] = [];
  const visit = (node: ts.Node): void => {
    const where = () => `${fileName}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    if (ts.isNewExpression(node)) {
      const target = resolve(node.expression, bindings);
      const written = node.expression.getText(source);
      if (target?.name.endsWith("Command")) {
        actions.push(iamAction(target.pkg, target.name.slice(0, -"Command".length), where()));
      } else if (target && !target.name.endsWith("Client")) {
        // An aggregated client (`new ECS()`) sends through methods this reader cannot follow.
        throw new Error(`${where()}: new ${written}(): use the SDK's …Client and …Command classes`);
      } else if (!target && /Command$/.test(written)) {
        throw new Error(`${where()}: ${written} is not imported from an @aws-sdk package`);
      }
    } else if (ts.isCallExpression(node)) {
      const target = resolve(node.expression, bindings);
      const written = node.expression.getText(source);
      const paginator = /^paginate(\w+)$/.exec(target?.name ?? "");
      if (target && paginator?.[1]) actions.push(iamAction(target.pkg, paginator[1], where()));
      else if (target && /^waitUntil/.test(target.name)) {
        throw new Error(`${where()}: ${written}() polls calls this reader cannot name: declare them`);
      } else if (!target && /(?:^|\.)paginate\w+$/.test(written)) {
        throw new Error(`${where()}: ${written} is not imported from an @aws-sdk package`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return actions;
}

/**
 * Project modules a file loads at run time: value imports and re-exports, relative or #shared/, then
 * dynamic import()s (a module the build loads only when it is needed).
 */
export function valueImports(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const local = (s: string) => s.startsWith("./") || s.startsWith("../") || s.startsWith("#shared/");
  for (const node of source.statements) {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            named !== undefined &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly && local(node.moduleSpecifier.text)) out.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      !node.isTypeOnly &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier) &&
      local(node.moduleSpecifier.text)
    ) {
      out.push(node.moduleSpecifier.text);
    }
  }
  const visit = (node: ts.Node): void => {
    const specifier = ts.isCallExpression(node) ? dynamicImportOf(node) : undefined;
    if (specifier !== undefined && local(specifier)) out.push(specifier);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

export interface SourceFile {
  path: string;
  text: string;
  /** Absolute paths of the project files it loads (type-only imports excluded). */
  imports: string[];
  /** IAM actions of the SDK commands it sends. */
  actions: string[];
}

/** The TypeScript files under `dir` (absolute), each with its imports and AWS calls. */
export function readSources(root: string, dir: string): SourceFile[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => {
      const path = join(d.parentPath, d.name);
      const text = readFileSync(path, "utf8");
      // #shared/* is the package's own import map for shared/ (package.json "imports").
      const imports = valueImports(path, text).map((s) =>
        s.startsWith("#shared/") ? join(root, "shared", s.slice("#shared/".length)) : join(d.parentPath, s),
      );
      return { path, text, imports, actions: sdkActions(path, text) };
    });
}

/** Every file `entry` loads, itself included, following value imports through `sources`. */
export function reachable(sources: readonly SourceFile[], entry: string): SourceFile[] {
  const byPath = new Map(sources.map((s) => [s.path, s]));
  const seen = new Map<string, SourceFile>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    const file = byPath.get(path);
    if (!file) throw new Error(`import of ${path}: not one of the source files read`);
    seen.set(path, file);
    for (const next of file.imports) visit(next);
  };
  visit(entry);
  return [...seen.values()];
}
