/**
 * The parts of zod our schemas use, imported by name. With `import { z } from 'zod'` esbuild must keep
 * zod's whole namespace object — every locale and the JSON Schema converters — which was 450 KB of each
 * function's 550 KB bundle (`npm run bench`, bundles). Named imports let it drop what nothing uses.
 */
export { array, boolean, enum, iso, ipv4, ipv6, number, record, strictObject, string, union, unknown } from 'zod';
export type { infer } from 'zod';
