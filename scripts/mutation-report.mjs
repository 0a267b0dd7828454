#!/usr/bin/env node
// Reads Stryker's JSON report and prints the mutation score per folder, then every surviving mutant, each
// marked explained when test/mutation-survivors.json gives the reason it is equivalent or not worth a test.
// Exits non-zero when a folder under target has a survivor nobody explained.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";

const REPORT = process.argv[2] ?? "reports/mutation/mutation.json";
const EXPLAINED = process.argv[3] ?? "test/mutation-survivors.json";
const TARGET = 85;
const UNDETECTED = new Set(["Survived", "NoCoverage"]);

const report = JSON.parse(readFileSync(REPORT, "utf8"));
/** @type {Array<{file: string, mutator: string, original: string, replacement: string, reason: string}>} */
const explained = JSON.parse(readFileSync(EXPLAINED, "utf8")).survivors;

/** The source text a mutant replaces (locations are 1-based lines and columns). */
function originalOf(source, { start, end }) {
  const lines = source.split("\n");
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1);
  return [
    lines[start.line - 1].slice(start.column - 1),
    ...lines.slice(start.line, end.line - 1),
    lines[end.line - 1].slice(0, end.column - 1),
  ].join("\n");
}
const squash = (text) => text.replace(/\s+/g, " ").trim();
const matches = (e, m) =>
  e.file === m.file &&
  e.mutator === m.mutatorName &&
  squash(e.original) === squash(m.original) &&
  squash(e.replacement) === squash(m.replacement ?? "");

const folders = new Map();
const survivors = [];
const used = new Set();
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  const folder = dirname(file);
  const f = folders.get(folder) ?? {
    killed: 0,
    survived: 0,
    noCoverage: 0,
    timeout: 0,
    other: 0,
    explained: 0,
  };
  folders.set(folder, f);
  for (const m of mutants) {
    if (m.status === "Killed") f.killed++;
    else if (m.status === "Timeout") f.timeout++;
    else if (m.status === "Survived") f.survived++;
    else if (m.status === "NoCoverage") f.noCoverage++;
    else f.other++;
    if (!UNDETECTED.has(m.status)) continue;
    const mutant = { ...m, file, folder, original: originalOf(source, m.location) };
    const reason = explained.find((e) => matches(e, mutant));
    if (reason) {
      used.add(reason);
      f.explained++;
    }
    survivors.push({ ...mutant, reason: reason?.reason });
  }
}

const pct = (n, d) => (d === 0 ? 100 : (100 * n) / d);
const rows = [...folders.entries()].sort(([a], [b]) => a.localeCompare(b));
const failing = [];
console.log(
  "\nMutation score per folder (detected = killed + timed out; score = detected / (detected + survived + no coverage))\n",
);
console.log(
  `${"folder".padEnd(24)}${"score".padStart(8)}${"killed".padStart(8)}${"timeout".padStart(9)}${"survived".padStart(10)}${"no cov".padStart(8)}${"explained".padStart(11)}${"other".padStart(7)}`,
);
for (const [folder, f] of rows) {
  const detected = f.killed + f.timeout;
  const undetected = f.survived + f.noCoverage;
  const score = pct(detected, detected + undetected);
  const unexplained = undetected - f.explained;
  if (score < TARGET && unexplained > 0) failing.push(folder);
  console.log(
    `${folder.padEnd(24)}${`${score.toFixed(1)}%`.padStart(8)}${String(f.killed).padStart(8)}${String(f.timeout).padStart(9)}${String(f.survived).padStart(10)}${String(f.noCoverage).padStart(8)}${String(f.explained).padStart(11)}${String(f.other).padStart(7)}`,
  );
}

const open = survivors.filter((s) => !s.reason);
const told = survivors.filter((s) => s.reason);
const show = (s) =>
  `  ${s.file}:${s.location.start.line}:${s.location.start.column} ${s.mutatorName}${s.status === "NoCoverage" ? " (no coverage)" : ""}: ${squash(s.original).slice(0, 80)} → ${squash(s.replacement ?? "").slice(0, 80)}`;
console.log(`\nSurviving mutants not explained (${open.length}):`);
for (const s of open) console.log(show(s));
console.log(`\nSurviving mutants explained in ${EXPLAINED} (${told.length}):`);
for (const s of told) console.log(`${show(s)}\n      ${s.reason}`);
// Only for the files this run mutated: a run of one folder leaves the others' explanations alone.
const stale = explained.filter((e) => e.file in report.files && !used.has(e));
if (stale.length > 0) {
  console.log(`\nExplanations that match no surviving mutant now (remove them, or the code changed):`);
  for (const e of stale) console.log(`  ${e.file} ${e.mutator}: ${squash(e.original).slice(0, 80)}`);
}
if (failing.length > 0) {
  console.log(`\nBelow ${TARGET}% with unexplained survivors: ${failing.join(", ")}`);
  process.exit(1);
}
console.log(`\nEvery folder is at ${TARGET}% or more, or each of its survivors is explained.`);
