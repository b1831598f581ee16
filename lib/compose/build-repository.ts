/**
 * The build repository alone, for functions that read builds without the build rules (provenance,
 * lineage): importing it from here rather than ./builds keeps the build service's modules, and what
 * they build at load, out of their bundles.
 */
import { BuildRepository } from '../builds/build.repository';
import { db, once, runtimeConfig } from './store';

export const buildRepository = /* @__PURE__ */ once(
  () => new BuildRepository(db(), runtimeConfig().tableName),
);
