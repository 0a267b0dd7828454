/** scripts/mutation-report.mjs: the score per folder, the survivors, and which of them are explained. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "mutation-report-"));
const at = (line: number, column: number, endColumn: number) => ({
  start: { line, column },
  end: { line, column: endColumn },
});

function report(statuses: string[], file = "shared/engine/a.ts") {
  const source = "export const a = x > 1;\nexport const b = 'reason';\n";
  return {
    schemaVersion: "2",
    thresholds: { high: 90, low: 85 },
    files: {
      [file]: {
        language: "typescript",
        source,
        mutants: statuses.map((status, i) => ({
          id: String(i),
          mutatorName: i === 0 ? "EqualityOperator" : "StringLiteral",
          replacement: i === 0 ? "x >= 1" : '""',
          location: i === 0 ? at(1, 18, 23) : at(2, 18, 26),
          status,
        })),
      },
      "shared/health/b.ts": {
        language: "typescript",
        source: "export const c = 1;\n",
        mutants: [{ id: "9", mutatorName: "X", replacement: "2", location: at(1, 18, 19), status: "Killed" }],
      },
    },
  };
}

function run(r: unknown, survivors: unknown[] = []) {
  const reportPath = join(dir, `r${Math.random()}.json`);
  const explainedPath = join(dir, `e${Math.random()}.json`);
  writeFileSync(reportPath, JSON.stringify(r));
  writeFileSync(explainedPath, JSON.stringify({ survivors }));
  const p = spawnSync(process.execPath, ["scripts/mutation-report.mjs", reportPath, explainedPath], {
    encoding: "utf8",
  });
  return { status: p.status, out: p.stdout, err: p.stderr };
}

const row = (out: string, folder: string) => out.split("\n").find((l) => l.startsWith(folder)) ?? "";

describe("mutation-report", () => {
  it("scores each folder: killed and timed out over all but ignored ones", () => {
    const statuses = ["Survived", ...Array(7).fill("Killed"), "Timeout", "NoCoverage", "Ignored"];
    const r = run(report(statuses));
    expect(row(r.out, "shared/engine")).toMatch(/^shared\/engine\s+80\.0%\s+7\s+1\s+1\s+1\s+0\s+1$/);
    expect(row(r.out, "shared/health")).toMatch(/^shared\/health\s+100\.0%\s+1\s+0\s+0\s+0\s+0\s+0$/);
    expect(r.out).toContain("Surviving mutants not explained (2):");
    expect(r.out).toContain("shared/engine/a.ts:1:18 EqualityOperator: x > 1 → x >= 1");
    expect(r.out).toContain("shared/engine/a.ts:2:18 StringLiteral (no coverage): 'reason' → \"\"");
    expect(r.out).toContain("Below 85% with unexplained survivors: shared/engine");
    expect(r.status).toBe(1);
  });

  it("passes a folder under target when every survivor is explained, matching by text not line", () => {
    const statuses = ["Survived", "Killed", "Killed"];
    const explained = {
      file: "shared/engine/a.ts",
      mutator: "EqualityOperator",
      original: "x > 1",
      replacement: "x >= 1",
      reason: "x is never 1",
    };
    const r = run(report(statuses), [explained]);
    expect(row(r.out, "shared/engine")).toMatch(/^shared\/engine\s+66\.7%\s+2\s+0\s+1\s+0\s+1\s+0$/);
    expect(r.out).toContain("Surviving mutants not explained (0):");
    expect(r.out).toMatch(
      /explained in .* \(1\):\n {2}shared\/engine\/a.ts:1:18 EqualityOperator.*\n {6}x is never 1/,
    );
    expect(r.status).toBe(0);
  });

  it("passes a folder at or above target with survivors, lists them, and names stale explanations", () => {
    const statuses = ["Survived", ...Array(9).fill("Killed")];
    const stale = {
      file: "shared/engine/a.ts",
      mutator: "X",
      original: "gone",
      replacement: "",
      reason: "old",
    };
    const r = run(report(statuses), [stale]);
    expect(row(r.out, "shared/engine")).toMatch(/90\.0%/);
    expect(r.out).toContain("Surviving mutants not explained (1):");
    expect(r.out).toMatch(/match no surviving mutant now.*\n {2}shared\/engine\/a.ts X: gone/);
    expect(r.status).toBe(0);
  });
});
