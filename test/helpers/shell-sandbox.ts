/**
 * Runs the generated init script for real, with dash or with busybox sh, on files in a private temporary
 * directory. For busybox runs PATH holds only symlinks to busybox applets, as in the busybox image.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
export const NOBODY = 65534;
const TIMEOUT_MS = 20_000;

function findExecutable(candidates: readonly string[], missing: string): string {
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(`${missing} (looked for ${candidates.join(", ")})`);
}

export interface Tools {
  dash: string;
  busybox: string;
  unshare: string;
  mount: string;
  setpriv: string;
}

let tools: Tools | undefined;

/** Every tool the tests need; a missing one fails the tests with what to install, never skips them. */
export function requireTools(): Tools {
  tools ??= {
    dash: findExecutable(
      ["/usr/bin/dash", "/bin/dash"],
      "dash is missing: install it (apt-get install dash)",
    ),
    busybox: findExecutable(
      ["/bin/busybox", "/usr/bin/busybox"],
      "busybox is missing: install it (apt-get install busybox dash; busybox-static works too); CI installs it too",
    ),
    unshare: findExecutable(["/usr/bin/unshare", "/bin/unshare"], "unshare is missing: install util-linux"),
    mount: findExecutable(["/bin/mount", "/usr/bin/mount"], "mount is missing: install mount (util-linux)"),
    setpriv: findExecutable(["/usr/bin/setpriv", "/bin/setpriv"], "setpriv is missing: install util-linux"),
  };
  return tools;
}

export interface Shell {
  name: string;
  /** The shell itself, e.g. ["/bin/busybox", "sh"]. */
  argv: () => string[];
  /** PATH for the script: GNU tools for dash, busybox applets only for busybox. */
  path: () => string;
}

let appletDir: string | undefined;

/** A directory of symlinks, one per applet of `busybox --list`, all pointing at busybox. */
export function busyboxAppletDir(): string {
  if (appletDir) return appletDir;
  const { busybox } = requireTools();
  const list = spawnSync(busybox, ["--list"], { encoding: "utf8" });
  if (list.status !== 0) throw new Error(`busybox --list failed: ${list.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), "dns-cache-busybox-path-"));
  chmodSync(dir, 0o755);
  for (const applet of list.stdout.split("\n")) {
    if (/^[\w.[-]+$/.test(applet)) symlinkSync(busybox, join(dir, applet));
  }
  appletDir = dir;
  return dir;
}

export function removeBusyboxAppletDir(): void {
  if (appletDir) rmSync(appletDir, { recursive: true, force: true });
  appletDir = undefined;
}

export const SHELLS: readonly Shell[] = [
  { name: "dash", argv: () => [requireTools().dash], path: () => STANDARD_PATH },
  { name: "busybox sh", argv: () => [requireTools().busybox, "sh"], path: busyboxAppletDir },
];

export interface RunResult {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Paths bind-mounted read-only onto themselves, in a private mount namespace (needs root). */
  readOnly?: readonly string[];
  /** Paths bind-mounted onto themselves, writable, like the resolv.conf ECS gives each container. */
  bindMounted?: readonly string[];
  /** Run the script as uid/gid 65534 (nobody) with no supplementary groups. */
  asNobody?: boolean;
  /** Overrides DNS_CACHE_BUSYBOX (the health probe copied into the volume). */
  probeSource?: string;
  /** Overrides DNS_CACHE_DIR (default: the sandbox's dns-cache directory, created by the script). */
  volumeDir?: string;
  /** Default 077, so every mode the script leaves behind comes from its own chmod. */
  umask?: string;
}

function quote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** A private temporary directory holding resolv.conf, the volume directory and the script. */
export class Sandbox {
  readonly root: string;
  readonly resolvConf: string;
  readonly volume: string;
  readonly corefile: string;
  readonly probe: string;
  private readonly scriptPath: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), "dns-cache-init-"));
    chmodSync(this.root, 0o755); // traversable by nobody
    this.resolvConf = join(this.root, "resolv.conf");
    this.volume = join(this.root, "dns-cache");
    this.corefile = join(this.volume, "Corefile");
    this.probe = join(this.volume, "busybox");
    this.scriptPath = join(this.root, "init.sh");
  }

  writeResolvConf(content: string): void {
    writeFileSync(this.resolvConf, content);
  }

  readResolvConf(): string {
    return readFileSync(this.resolvConf, "utf8");
  }

  chmodResolvConf(mode: number): void {
    chmodSync(this.resolvConf, mode);
  }

  /** Creates the volume directory beforehand (0755), owned by uid and gid `owner`. */
  createVolumeOwnedBy(owner: number): void {
    mkdirSync(this.volume, { mode: 0o755 });
    chownSync(this.volume, owner, owner);
  }

  readCorefile(): string {
    return readFileSync(this.corefile, "utf8");
  }

  writeScript(script: string): string {
    writeFileSync(this.scriptPath, script);
    chmodSync(this.scriptPath, 0o644);
    return this.scriptPath;
  }

  /** `sh -n`: parse only. */
  syntaxCheck(shell: Shell, script: string): RunResult {
    return run([...shell.argv(), "-n", this.writeScript(script)], { PATH: shell.path() });
  }

  run(shell: Shell, script: string, options: RunOptions = {}): RunResult {
    const { argv, env } = this.command(shell, script, options);
    return run(argv, env);
  }

  /** As run, without blocking the event loop, so several sandboxes can run at once. */
  runAsync(shell: Shell, script: string, options: RunOptions = {}): Promise<RunResult> {
    const { argv, env } = this.command(shell, script, options);
    return runAsync(argv, env);
  }

  private command(
    shell: Shell,
    script: string,
    options: RunOptions,
  ): { argv: string[]; env: Record<string, string> } {
    const t = requireTools();
    const scriptPath = this.writeScript(script);
    // Innermost first: the shell under test, under a umask, maybe as nobody, maybe in a mount namespace.
    let argv = [t.dash, "-c", 'umask "$1" && shift && exec "$@"', "umask", options.umask ?? "077"];
    argv.push(...shell.argv(), scriptPath);
    if (options.asNobody) {
      argv = [t.setpriv, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", ...argv];
    }
    const mounts = [
      ...(options.bindMounted ?? []).map((p) => `${quote(t.mount)} --bind ${quote(p)} ${quote(p)}`),
      ...(options.readOnly ?? []).flatMap((p) => [
        `${quote(t.mount)} --bind ${quote(p)} ${quote(p)}`,
        `${quote(t.mount)} -o remount,bind,ro ${quote(p)}`,
      ]),
    ];
    if (mounts.length > 0) {
      const setup = `set -e\n${mounts.join("\n")}\nexec "$@"`;
      argv = [t.unshare, "--mount", "--propagation", "private", t.dash, "-c", setup, "mounts", ...argv];
    }
    const env = {
      PATH: shell.path(),
      DNS_CACHE_RESOLV_CONF: this.resolvConf,
      DNS_CACHE_DIR: options.volumeDir ?? this.volume,
      DNS_CACHE_BUSYBOX: options.probeSource ?? t.busybox,
    };
    return { argv, env };
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

function run(argv: string[], env: Record<string, string>): RunResult {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error("empty command");
  const result = spawnSync(command, args, {
    env,
    encoding: "utf8",
    timeout: TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  if (result.error) throw result.error;
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

function runAsync(argv: string[], env: Record<string, string>): Promise<RunResult> {
  const [command, ...args] = argv;
  if (command === undefined) throw new Error("empty command");
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}
