/**
 * The zod every Lambda bundles: zod/mini, whose schemas are built with functions rather than
 * methods, so a bundle keeps only what its schemas use (about half of classic zod) and builds
 * them faster at cold start. Import it as a namespace, as zod itself: `import * as z from '../zod'`
 * (named imports defeat the tree-shaking).
 *
 * Classic zod installs its English messages on first use; zod/mini installs none. This installs
 * the same English locale the same way (only when no other locale is set), so every message reads
 * word for word as it did. Only `en` is imported: `z.locales` would bundle every language.
 */
import { config } from 'zod/mini';
import { globalConfig } from 'zod/v4/core';
import { en } from 'zod/v4/locales';

if (!globalConfig.localeError) config(en());

export * from 'zod/mini';
