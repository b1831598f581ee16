/**
 * Composition for the artifacts routes (see lib/compose/store.ts): the artifact rules over the
 * whole object store (pointers, verification reads, presigned transfers), the same service the
 * states function composes for reports (./artifact-reports.ts).
 */
import { artifactReports } from './artifact-reports';

export const artifactService = artifactReports;
