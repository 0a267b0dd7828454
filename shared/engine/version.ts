/** The injector's version, recorded on every injected revision (kept equal to package.json by a test). */
export const VERSION = "0.1.0";
