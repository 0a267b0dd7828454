import { readAll, runCli } from "#shared/cli/cli.ts";

process.exitCode = await runCli(process.argv.slice(2), {
  readStdin: () => readAll(process.stdin),
  stdinIsTerminal: process.stdin.isTTY === true,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
