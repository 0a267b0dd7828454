import { execFileSync } from "node:child_process";

// The CLI and Lambda tests run the bundles exactly as users do, so build them once first.
export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
