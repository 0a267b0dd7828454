import { open, writeFile } from "node:fs/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type ParseError, parse as parseLenient, printParseErrorCode } from "jsonc-parser";
import { ORIGINAL_LABEL, VPC_RESOLVER } from "#shared/engine/bridge.ts";
import { CACHE_CONTAINER, INIT_CONTAINER, VOLUME } from "#shared/engine/constants.ts";
import { injectContainerArray } from "#shared/engine/container-array.ts";
import { InvalidInputError, InvalidOptionError } from "#shared/engine/errors.ts";
import { type Injected, type InjectResult, inject, serialize } from "#shared/engine/inject.ts";
import {
  BRIDGE_OPTION_NAMES,
  DEFAULT_OPTIONS,
  describeOptions,
  OPTION_SPECS,
  type OptionName,
  type PartialOptions,
  parseOptionValues,
  tagKeyOf,
} from "#shared/engine/options.ts";
import type { Container } from "#shared/engine/task-definition.ts";
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

/** Stop reading input past this: far above ECS's 64 KiB request limit, far below memory trouble. */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;

const optionFlags = Object.fromEntries(OPTION_SPECS.map((s) => [s.name, { type: "string" as const }]));
const COMMON_FLAGS = {
  file: { type: "string", short: "f" },
  help: { type: "boolean", short: "h" },
  ...optionFlags,
} as const;
/** Flags only one command takes; giving one to the other command is an error, never ignored. */
const COMMAND_FLAGS = {
  inject: { output: { type: "string", short: "o" } },
  check: { format: { type: "string" } },
} as const satisfies Record<Command, ParseArgsConfig["options"]>;

interface ParsedFlags {
  values: { file?: string; output?: string; format?: string; help?: boolean } & Record<
    string,
    string | boolean | undefined
  >;
  positionals: string[];
}

function parseFlags(cmd: Command, args: readonly string[]): ParsedFlags {
  const options = { ...COMMON_FLAGS, ...COMMAND_FLAGS[cmd] };
  try {
    return parseArgs({ options, args: [...args], allowPositionals: true, strict: true }) as ParsedFlags;
  } catch (error) {
    throw new UsageError(`${flagProblem(error as Error, cmd, args)} (see dns-cache ${cmd} --help)`, {
      cause: error,
    });
  }
}

/** node:util's parseArgs messages, said in one short line. */
function flagProblem(error: Error, cmd: Command, args: readonly string[]): string {
  const unknown = /Unknown option '([^']+)'/.exec(error.message)?.[1];
  if (unknown !== undefined) {
    const owner = (Object.keys(COMMAND_FLAGS) as Command[]).find(
      (c) => c !== cmd && flagNames(COMMAND_FLAGS[c]).includes(unknown.replace(/=.*/, "")),
    );
    return owner
      ? `${unknown} is an option of dns-cache ${owner}, not of ${cmd}`
      : `unknown option ${unknown}`;
  }
  const flag = /^Option '(?:-\w, )?(--?[\w-]+)/.exec(error.message)?.[1];
  if (flag === undefined) return error.message.split("\n")[0] ?? "invalid arguments";
  if (/ambiguous/.test(error.message)) {
    const value = args[args.indexOf(flag) + 1] ?? "";
    const long = flag.startsWith("--") ? flag : `--${longNameOf(flag)}`;
    return `${flag} needs a value, and "${value}" looks like an option; if it is the value, write ${long}=${value}`;
  }
  if (/does not take an argument/.test(error.message)) return `${flag} takes no value`;
  return `${flag} needs a value`;
}

type FlagSpecs = Record<string, { type: "string" | "boolean"; short?: string }>;

function flagNames(options: FlagSpecs): string[] {
  return Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

function longNameOf(short: string): string {
  const all: FlagSpecs = {
    ...COMMON_FLAGS,
    ...COMMAND_FLAGS.inject,
    ...COMMAND_FLAGS.check,
  };
  return Object.entries(all).find(([, o]) => `-${o.short}` === short)?.[0] ?? short;
}

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
      ? "  -o, --output PATH    write the JSON to PATH instead of stdout (- for stdout)\n"
      : "  --format text|json   how to print the explanation [text]\n";
  return `Usage: dns-cache ${command} [--file PATH | -] [options]

${COMMANDS[command][0]?.toUpperCase()}${COMMANDS[command].slice(1)}.
Input: a RegisterTaskDefinition input, a DescribeTaskDefinition output, a described task definition,
or a bare containerDefinitions array (Terraform's container_definitions: the output is then the array,
and what the task definition must add is printed as notes on stderr), at most 8 MiB,
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
    // A stream, so that /dev/zero or a FIFO stops at the limit like stdin does.
    const handle = await open(file);
    return { text: await readAll(handle.createReadStream(), file), source: file };
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : fsReason(error);
    throw new InvalidInputError(`cannot read ${file}: ${why}`, { cause: error });
  }
}

function explain(result: InjectResult, family: string, notes: readonly string[] = []): string {
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
    notes.length > 0
      ? `  + volume ${VOLUME}: to be added to the task definition (see the notes)`
      : `  + volume ${VOLUME} (task-local scratch for the Corefile and the health probe)`,
    `  + container ${INIT_CONTAINER} (${init?.image}): points /etc/resolv.conf at 127.0.0.1${r.options.fallback ? ", original nameservers kept as fallback" : ", no fallback"}, then exits`,
    `  + container ${CACHE_CONTAINER} (${cache?.image}): CoreDNS cache on 127.0.0.1:53${r.healthPort !== null ? `, health on 127.0.0.1:${r.healthPort}` : ""}`,
    ...defs
      .filter((c) => c.name !== CACHE_CONTAINER && c.name !== INIT_CONTAINER)
      .map(
        (c) =>
          `  ~ container ${c.name}: waits for ${INIT_CONTAINER} SUCCESS and ${CACHE_CONTAINER} ${r.options.waitFor === "healthy" ? "HEALTHY" : "START"}`,
      ),
    `  memory: ${mem.task !== undefined ? `task ${mem.task} MiB, ` : ""}containers reserve ${mem.containers} MiB, dns-cache adds ${mem.added} MiB`,
    ...(r.sourceRevision !== undefined ? [`  source revision: ${r.sourceRevision}`] : []),
    "  options:",
    ...describeOptions(r.options).map(
      ({ name, value }) =>
        `    ${name.padEnd(18)} ${value.padEnd(24)} (${r.optionSources[name as keyof typeof r.optionSources]})`,
    ),
    ...r.warnings.map((w) => `  warning: ${w}`),
    ...(r.advisories ?? []).map((w) => `  warning: ${w}`),
    ...notes.map((n) => `  note: ${n}`),
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

function checkJson(result: InjectResult, family: string, notes: readonly string[] = []): string {
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
          warnings: [...result.warnings, ...(result.advisories ?? [])],
          ...(notes.length > 0 ? { notes } : {}),
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

    const { values, positionals } = parseFlags(cmd, rest);
    if (values.help) {
      io.stdout(commandHelp(cmd));
      return EXIT.ok;
    }
    if (positionals.length > 1 || (positionals.length === 1 && values.file !== undefined)) {
      throw new UsageError(`unexpected argument "${positionals.at(-1)}" (see dns-cache ${cmd} --help)`);
    }
    if (values.format !== undefined && !["text", "json"].includes(values.format)) {
      throw new UsageError(`--format must be text or json, got "${values.format}"`);
    }
    if (values.output === "") throw new UsageError("--output needs a path (or - for stdout)");
    if (values.file === "") throw new UsageError("--file needs a path (or - for stdin)");
    const explicit = parseOptionValues(values as Record<string, string | undefined>, (name) => `--${name}`);

    const { text, source } = await readInput(values.file ?? positionals[0], io);
    const input = parseJson(text, source);
    // Awaited here, so that its input errors reach the catch below.
    if (Array.isArray(input)) return await runOnArray(cmd, input, explicit, values, io);
    const result = inject(input, { explicit });
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
    await writeOutput(values.output, serialize(result.definition), io);
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

/** A bare containerDefinitions array (Terraform): the injected array out, the task-level needs as notes. */
async function runOnArray(
  cmd: Command,
  input: unknown[],
  explicit: PartialOptions,
  values: ParsedFlags["values"],
  io: CliIo,
): Promise<number> {
  const { result, notes } = injectContainerArray(input, { explicit });
  const family = "containerDefinitions array";
  if (cmd === "check") {
    io.stdout(values.format === "json" ? checkJson(result, family, notes) : explain(result, family, notes));
    return result.outcome === "refused" ? EXIT.refused : EXIT.ok;
  }
  if (result.outcome === "refused") {
    for (const r of result.refusals) io.stderr(`dns-cache: refused: ${r.reason}: ${r.message}\n`);
    return EXIT.refused;
  }
  await writeOutput(values.output, serializeContainers(result.definition.containerDefinitions), io);
  for (const note of notes) io.stderr(`dns-cache: note: ${note}\n`);
  if (result.upToDate) io.stderr(`dns-cache: the ${family} is already up to date\n`);
  return EXIT.ok;
}

function serializeContainers(containers: readonly Container[]): string {
  return `${JSON.stringify(containers, null, 2)}\n`;
}

/** `-o -` (or no -o) is stdout, as `-f -` is stdin. */
async function writeOutput(path: string | undefined, json: string, io: CliIo): Promise<void> {
  if (path === undefined || path === "-") {
    io.stdout(json);
    return;
  }
  try {
    await writeFile(path, json);
  } catch (error) {
    throw new InvalidInputError(`cannot write ${path}: ${fsReason(error)}`, { cause: error });
  }
}

const FS_REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EISDIR: "it is a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  ENOTDIR: "a part of the path is not a directory",
  EFBIG: "file too large",
  EIO: "input/output error",
  EPIPE: "the reader has gone away",
};

/** A file-system error in a few words, without Node's syscall text. */
export function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code ?? "";
  return FS_REASONS[code] ?? (code || String((error as Error)?.message ?? error));
}

/**
 * What to do when stdout fails under the CLI. A closed pipe (`| head`) ends quietly with 141, the status a
 * shell reports for a program ended by SIGPIPE (as `cat` or `grep` are); anything else is one line and 1.
 */
export function stdoutFailure(error: unknown): { code: number; message?: string } {
  if ((error as NodeJS.ErrnoException)?.code === "EPIPE") return { code: 141 };
  return { code: EXIT.badInput, message: `dns-cache: cannot write to stdout: ${fsReason(error)}\n` };
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

/** Reads a stream to the end, or stops (and closes it) once it passes `limit` bytes. */
export async function readAll(
  stream: NodeJS.ReadableStream,
  source = "stdin",
  limit = MAX_INPUT_BYTES,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buffer.length;
    if (size > limit) {
      throw new InvalidInputError(
        `${source} is over ${limit / 1024 / 1024} MiB; a task definition is far smaller (ECS accepts at most 64 KiB), so reading stopped`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
