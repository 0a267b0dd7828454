import { readFile, writeFile } from "node:fs/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type ParseError, parse as parseLenient, printParseErrorCode } from "jsonc-parser";
import { ORIGINAL_LABEL, VPC_RESOLVER } from "#shared/engine/bridge.ts";
import { CACHE_CONTAINER, INIT_CONTAINER, VOLUME } from "#shared/engine/constants.ts";
import { InvalidInputError, InvalidOptionError } from "#shared/engine/errors.ts";
import { type Injected, type InjectResult, inject, serialize } from "#shared/engine/inject.ts";
import {
  BRIDGE_OPTION_NAMES,
  DEFAULT_OPTIONS,
  describeOptions,
  OPTION_SPECS,
  type OptionName,
  parseOptionValues,
  tagKeyOf,
} from "#shared/engine/options.ts";
import { VERSION } from "#shared/engine/version.ts";

export interface CliIo {
  readStdin(): Promise<string>;
  stdinIsTerminal: boolean;
  stdout(text: string): void;
  stderr(text: string): void;
}

export const EXIT = { ok: 0, badInput: 1, refused: 2 } as const;

class UsageError extends Error {
  override readonly name = "UsageError";
}

const COMMANDS = {
  inject: "print the task definition with the DNS cache wired in, as a RegisterTaskDefinition input",
  check: "explain whether and how a task definition would be injected",
} as const;
type Command = keyof typeof COMMANDS;

const optionFlags = Object.fromEntries(OPTION_SPECS.map((s) => [s.name, { type: "string" as const }]));
const PARSE_CONFIG = {
  options: {
    file: { type: "string", short: "f" },
    output: { type: "string", short: "o" },
    format: { type: "string" },
    help: { type: "boolean", short: "h" },
    ...optionFlags,
  },
  allowPositionals: true,
  strict: true,
} satisfies ParseArgsConfig;

function mainHelp(): string {
  return `dns-cache ${VERSION}: a per-task DNS cache (CoreDNS sidecar) for Amazon ECS task definitions

Usage: dns-cache <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([c, d]) => `  ${c.padEnd(8)} ${d}`)
  .join("\n")}

Run "dns-cache <command> --help" for a command's options.
Exit codes: 0 injected or already up to date, 1 bad input, 2 refused (reason codes on stderr).
`;
}

function commandHelp(command: Command): string {
  const rows = OPTION_SPECS.map((s) => {
    const def = (s.format as (v: unknown) => string)(DEFAULT_OPTIONS[s.key]);
    return `  --${s.name} VALUE\n      ${s.help} [default: ${def}; tag ${tagKeyOf(s)}]`;
  });
  const specific =
    command === "inject"
      ? "  -o, --output PATH    write the JSON to PATH instead of stdout\n"
      : "  --format text|json   how to print the explanation [text]\n";
  return `Usage: dns-cache ${command} [--file PATH | -] [options]

${COMMANDS[command][0]?.toUpperCase()}${COMMANDS[command].slice(1)}.
Input: a RegisterTaskDefinition input, a DescribeTaskDefinition output or a described task definition,
from --file PATH, or from stdin when no file (or -) is given.
${command === "inject" ? "Register the result with: aws ecs register-task-definition --cli-input-json file://OUT.json\n" : ""}
Options:
  -f, --file PATH      read the task definition from PATH (- for stdin)
${specific}  -h, --help           show this help

Cache options (flags override dns-cache:* tags on the definition, which override the defaults):
${rows.join("\n")}
`;
}

const JSON_ERRORS: Record<string, string> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "invalid number",
  PropertyNameExpected: "a property name in double quotes was expected",
  ValueExpected: "a value was expected",
  ColonExpected: "':' was expected",
  CommaExpected: "',' was expected",
  CloseBraceExpected: "'}' was expected",
  CloseBracketExpected: "']' was expected",
  EndOfFileExpected: "unexpected content after the JSON value",
  InvalidCommentToken: "comments are not allowed in JSON",
  UnexpectedEndOfComment: "comments are not allowed in JSON",
  UnexpectedEndOfString: "unterminated string",
  UnexpectedEndOfNumber: "unterminated number",
  InvalidUnicode: "invalid unicode escape",
  InvalidEscapeCharacter: "invalid escape character",
  InvalidCharacter: "invalid character in a string",
};

function locate(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `line ${line} column ${column}`;
}

export function parseJson(text: string, source: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  if (body.trim() === "")
    throw new InvalidInputError(`${source} is empty; expected a task definition as JSON`);
  try {
    return JSON.parse(body);
  } catch (error) {
    // V8 names the problem well when it gives a place; otherwise ask a tolerant parser where it is.
    const v8 = /^(.*) in JSON at position \d+ \(line (\d+) column (\d+)\)$/.exec((error as Error).message);
    if (v8) {
      const what = `${v8[1]?.charAt(0).toLowerCase()}${v8[1]?.slice(1)}`;
      throw new InvalidInputError(`${source} is not valid JSON (line ${v8[2]} column ${v8[3]}: ${what})`, {
        cause: error,
      });
    }
    const errors: ParseError[] = [];
    parseLenient(body, errors, {
      disallowComments: true,
      allowTrailingComma: false,
      allowEmptyContent: false,
    });
    const first = errors[0];
    const code = first ? printParseErrorCode(first.error) : "";
    const where = first
      ? `${locate(body, first.offset)}: ${JSON_ERRORS[code] ?? code}`
      : (error as Error).message;
    throw new InvalidInputError(`${source} is not valid JSON (${where})`, { cause: error });
  }
}

async function readInput(file: string | undefined, io: CliIo): Promise<{ text: string; source: string }> {
  if (file === undefined || file === "-") {
    if (file === undefined && io.stdinIsTerminal) {
      throw new UsageError("no input: give --file PATH, or pipe a task definition into stdin");
    }
    return { text: await io.readStdin(), source: "stdin" };
  }
  try {
    return { text: await readFile(file, "utf8"), source: file };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "it is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (error as Error).message;
    throw new InvalidInputError(`cannot read ${file}: ${why}`, { cause: error });
  }
}

function explain(result: InjectResult, family: string): string {
  if (result.outcome === "refused") {
    return [`${family}: refused`, ...result.refusals.map((r) => `  ${r.reason}: ${r.message}`), ""].join(
      "\n",
    );
  }
  const r: Injected = result;
  const defs = r.definition.containerDefinitions;
  const cache = defs.find((c) => c.name === CACHE_CONTAINER);
  const init = defs.find((c) => c.name === INIT_CONTAINER);
  const state = r.upToDate
    ? "already up to date"
    : r.wasInjected
      ? "would re-inject (injected by another version or with other options)"
      : "would inject";
  if (r.path === "bridge") return explainBridge(r, `${family}: ${state}`);
  const mem = r.memory;
  const lines = [
    `${family}: ${state}`,
    `  + volume ${VOLUME} (task-local scratch for the Corefile and the health probe)`,
    `  + container ${INIT_CONTAINER} (${init?.image}): points /etc/resolv.conf at 127.0.0.1${r.options.fallback ? ", original nameservers kept as fallback" : ", no fallback"}, then exits`,
    `  + container ${CACHE_CONTAINER} (${cache?.image}): CoreDNS cache on 127.0.0.1:53${r.healthPort !== null ? `, health on 127.0.0.1:${r.healthPort}` : ""}`,
    ...defs
      .filter((c) => c.name !== CACHE_CONTAINER && c.name !== INIT_CONTAINER)
      .map(
        (c) =>
          `  ~ container ${c.name}: waits for ${INIT_CONTAINER} SUCCESS and ${CACHE_CONTAINER} ${r.options.healthCheck ? "HEALTHY" : "START"}`,
      ),
    `  memory: ${mem.task !== undefined ? `task ${mem.task} MiB, ` : ""}containers reserve ${mem.containers} MiB, dns-cache adds ${mem.added} MiB`,
    ...(r.sourceRevision !== undefined ? [`  source revision: ${r.sourceRevision}`] : []),
    "  options:",
    ...describeOptions(r.options).map(
      ({ name, value }) =>
        `    ${name.padEnd(18)} ${value.padEnd(24)} (${r.optionSources[name as keyof typeof r.optionSources]})`,
    ),
    ...r.warnings.map((w) => `  warning: ${w}`),
    "",
  ];
  return lines.join("\n");
}

/** The bridge path: what changes in each container, and what must run on the cluster for it to work. */
function explainBridge(r: Injected, heading: string): string {
  const address = r.options.nodeCacheAddress;
  const planned = new Map((r.bridge?.containers ?? []).map((c) => [c.name, c.dnsServers]));
  return [
    heading,
    `  bridge mode (EC2): no sidecar; containers ask the node cache daemon on ${address}${r.options.fallback ? `, then the VPC resolver (${VPC_RESOLVER})` : ", with no fallback"}`,
    ...r.definition.containerDefinitions.map((c) => {
      const servers = planned.get(c.name);
      return servers
        ? `  ~ container ${c.name}: dnsServers ${servers.join(", ")} (what it had is kept in docker label ${ORIGINAL_LABEL})`
        : `  = container ${c.name}: unchanged (disableNetworking)`;
    }),
    "  prerequisite: the node cache daemon on every EC2 instance of the cluster:",
    `    aws cloudformation deploy --template-file infra/node-cache.yaml --stack-name dns-cache-node-CLUSTER --capabilities CAPABILITY_IAM --parameter-overrides Cluster=CLUSTER NodeCacheAddress=${address}`,
    "    without it a stopped cache is refused at once, but an instance without the address drops lookups (each waits for the resolver timeout)",
    ...(r.sourceRevision !== undefined ? [`  source revision: ${r.sourceRevision}`] : []),
    "  options:",
    ...describeOptions(r.options)
      .filter(({ name }) => BRIDGE_OPTION_NAMES.has(name as OptionName))
      .map(
        ({ name, value }) =>
          `    ${name.padEnd(18)} ${value.padEnd(24)} (${r.optionSources[name as keyof typeof r.optionSources]})`,
      ),
    ...r.warnings.map((w) => `  warning: ${w}`),
    "",
  ].join("\n");
}

function checkJson(result: InjectResult, family: string): string {
  const body =
    result.outcome === "refused"
      ? { family, outcome: "refused", refusals: result.refusals, warnings: result.warnings }
      : {
          family,
          outcome: result.upToDate ? "up-to-date" : "injected",
          path: result.path,
          wasInjected: result.wasInjected,
          ...(result.bridge ? { bridge: result.bridge } : {}),
          healthPort: result.healthPort,
          memory: result.memory,
          options: Object.fromEntries(
            describeOptions(result.options).map(({ name, value }) => [name, value]),
          ),
          optionSources: result.optionSources,
          warnings: result.warnings,
        };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** Runs the CLI; returns the exit code. Never throws for bad input or refusals. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const fail = (code: number, message: string) => {
    io.stderr(`dns-cache: ${message}\n`);
    return code;
  };
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      const topic = rest[0];
      if (command === "help" && topic && topic in COMMANDS) io.stdout(commandHelp(topic as Command));
      else io.stdout(mainHelp());
      return command === undefined ? EXIT.badInput : EXIT.ok;
    }
    if (command === "--version" || command === "-v") {
      io.stdout(`${VERSION}\n`);
      return EXIT.ok;
    }
    if (!(command in COMMANDS))
      throw new UsageError(
        `unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(", ")}; see dns-cache --help)`,
      );
    const cmd = command as Command;

    let parsed: ReturnType<typeof parseArgs<typeof PARSE_CONFIG>>;
    try {
      parsed = parseArgs({ ...PARSE_CONFIG, args: [...rest] });
    } catch (error) {
      const message = (error as Error).message;
      const unknown = /Unknown option '([^']+)'/.exec(message)?.[1];
      const what = unknown ? `unknown option ${unknown}` : message.split("\n")[0];
      throw new UsageError(`${what} (see dns-cache ${cmd} --help)`, { cause: error });
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout(commandHelp(cmd));
      return EXIT.ok;
    }
    if (positionals.length > 1 || (positionals.length === 1 && values.file !== undefined)) {
      throw new UsageError(`unexpected argument "${positionals.at(-1)}" (see dns-cache ${cmd} --help)`);
    }
    if (cmd === "check" && values.format !== undefined && !["text", "json"].includes(values.format)) {
      throw new UsageError(`--format must be text or json, got "${values.format}"`);
    }
    const explicit = parseOptionValues(values as Record<string, string | undefined>, (name) => `--${name}`);

    const { text, source } = await readInput(values.file ?? positionals[0], io);
    const result = inject(parseJson(text, source), { explicit });
    const family = (result.outcome === "injected" ? result.definition.family : undefined) ?? familyOf(text);

    if (cmd === "check") {
      io.stdout(values.format === "json" ? checkJson(result, family) : explain(result, family));
      return result.outcome === "refused" ? EXIT.refused : EXIT.ok;
    }
    for (const w of result.warnings) io.stderr(`dns-cache: warning: ${w}\n`);
    if (result.outcome === "refused") {
      for (const r of result.refusals) io.stderr(`dns-cache: refused: ${r.reason}: ${r.message}\n`);
      return EXIT.refused;
    }
    const json = serialize(result.definition);
    if (values.output !== undefined) await writeOutput(values.output, json);
    else io.stdout(json);
    if (result.upToDate) io.stderr(`dns-cache: ${family} is already up to date\n`);
    return EXIT.ok;
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof InvalidInputError ||
      error instanceof InvalidOptionError
    ) {
      return fail(EXIT.badInput, error.message);
    }
    // Anything else is our bug: still one line, never a stack trace.
    return fail(
      EXIT.badInput,
      `internal error: ${(error as Error)?.message ?? String(error)} (please report it)`,
    );
  }
}

async function writeOutput(path: string, json: string): Promise<void> {
  try {
    await writeFile(path, json);
  } catch (error) {
    throw new InvalidInputError(`cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function familyOf(text: string): string {
  try {
    const v = JSON.parse(text) as { family?: unknown; taskDefinition?: { family?: unknown } };
    const f = v.family ?? v.taskDefinition?.family;
    return typeof f === "string" ? f : "task definition";
  } catch {
    return "task definition";
  }
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString("utf8");
}
