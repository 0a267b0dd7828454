import { readAll, runCli, stdoutFailure } from "#shared/cli/cli.ts";

// Write errors arrive as events: a closed pipe ends quietly (141), anything else in one line.
process.stdout.on("error", (error) => {
  const { code, message } = stdoutFailure(error);
  if (message) process.stderr.write(message);
  process.exit(code);
});
process.stderr.on("error", () => {});

process.exitCode = await runCli(process.argv.slice(2), {
  readStdin: () => readAll(process.stdin),
  stdinIsTerminal: process.stdin.isTTY === true,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
