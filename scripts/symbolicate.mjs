// Maps a stack trace logged by a deployed function back to the TypeScript sources.
//   npm run build                                  (at the deployed commit: the build is deterministic)
//   node scripts/symbolicate.mjs <function> < trace.txt
// The artifact carries no source maps (parsing them would slow every cold start); dist/sourcemaps/ has them.
import { existsSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const name = process.argv[2];
const maps = join(root, "dist/sourcemaps", name ?? "");
if (!name || !existsSync(maps)) {
  console.error(
    `usage: node scripts/symbolicate.mjs <function> < trace.txt (after npm run build; no ${maps})`,
  );
  process.exit(2);
}
const loaded = new Map();
const mapOf = (file) => {
  if (!loaded.has(file)) {
    const path = join(maps, `${file}.map`);
    loaded.set(file, existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, "utf8"))) : undefined);
  }
  return loaded.get(file);
};
// Frames name /var/task/<file>.mjs (file:// URLs in ESM): the file relative to the artifact's root.
const frame = /(?:file:\/\/)?\/var\/task\/([\w./-]+\.mjs):(\d+):(\d+)/g;
const text = readFileSync(0, "utf8");
process.stdout.write(
  text.replace(frame, (whole, file, line, column) => {
    const entry = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry?.originalSource) return whole;
    // Sources are relative to dist/<function>/<file>: from the project root once the ../ are gone.
    const source = entry.originalSource.replace(/^(\.\.\/)+/, "");
    return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  }),
);
