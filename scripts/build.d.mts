// Types of scripts/build.mjs for the tests that import it.
import type { BuildOptions, Metafile } from "esbuild";

export const root: string;
export const HANDLER: string;
export function functionNames(): string[];
export function functionBuildOptions(name: string, outdir: string): BuildOptions;
export function buildFunction(name: string, outdir: string, mapsDir?: string): Promise<Metafile>;
export function buildCli(): Promise<void>;
export function buildAll(): Promise<Record<string, Metafile>>;
