/**
 * zod for the event parsers: `import * as z from "#shared/runtime/schema.ts"`, never from "zod".
 * zod/mini is the tree-shakable API (functions, not methods: `z.optional(z.string())`,
 * `z.string().check(z.regex(re))`, `z.looseObject({...})`); the classic API and its 60-odd locales were half
 * of each bundle. Only the English locale is loaded: the same messages as classic zod. Re-exported with
 * `export *` (never as a namespace object) so that the bundler keeps only what the parsers use.
 */
import { en } from "zod/locales";
import { config } from "zod/mini";

config(en());

export * from "zod/mini";
