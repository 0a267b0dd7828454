/**
 * The init script runs as root in every task: renderInitScript refuses to produce a script from a value
 * that the shell would expand or run (the options are validated before, this is the last line of defence),
 * and what it accepts runs for real and reaches the Corefile verbatim.
 */
import { readFileSync } from "node:fs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type InitScriptConfig, renderInitScript } from "#shared/engine/init-script.ts";
import { DEFAULT_OPTIONS } from "#shared/engine/options.ts";
import { removeBusyboxAppletDir, Sandbox, SHELLS } from "./helpers/shell-sandbox.ts";

const BASE: InitScriptConfig = {
  ...DEFAULT_OPTIONS,
  healthPort: 8086,
  resolverTimeout: 1,
  resolverAttempts: 3,
};

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const sb of sandboxes.splice(0)) sb.dispose();
});
afterAll(() => removeBusyboxAppletDir());

describe("renderInitScript refuses values the shell would run", () => {
  it.each([
    ["a command substitution after the address", "10.0.0.2$(reboot)"],
    ["a command before the address", "`reboot`10.0.0.2"],
    ["a second command", "10.0.0.2;reboot"],
    ["a space-separated extra word", "10.0.0.2 10.0.0.3"],
    ["a host name", "dns.example"],
    ["nothing", ""],
  ])("an upstream with %s", (_, upstream) => {
    expect(() => renderInitScript({ ...BASE, upstreams: ["10.0.0.2", upstream] })).toThrow(
      `unsafe upstream ${upstream}`,
    );
  });

  it.each([
    ["a command substitution", "1h $(reboot)"],
    ["a backquote", "1h `reboot`"],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell expansion is the point
    ["a variable", "1h ${HOME}"],
    ["a backslash", "1h \\"],
    ["a single quote", "1h 'x"],
  ])("a Corefile value with %s", (_, serveStale) => {
    expect(() => renderInitScript({ ...BASE, serveStale })).toThrow(
      "Corefile holds characters unsafe in a here-document",
    );
  });
});

describe.each(SHELLS)("what it accepts, under $name", (shell) => {
  it("forwards to IPv4 and IPv6 upstreams, upper-case hex included, exactly as given", () => {
    const sb = new Sandbox();
    sandboxes.push(sb);
    sb.writeResolvConf("nameserver 10.0.0.2\n");
    const upstreams = ["10.9.0.2", "FD00:EC2::253", "fd00::53"];
    const r = sb.run(shell, renderInitScript({ ...BASE, upstreams }));
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(sb.corefile, "utf8")).toContain("  forward . 10.9.0.2 FD00:EC2::253 fd00::53 {\n");
    expect(readFileSync(sb.corefile, "utf8")).toContain("    serve_stale 1h verify\n");
  });
});
