/**
 * The reference group: projects, platforms, OS versions, image types and state catalogs. Part of
 * the route table (lib/http/routes.ts).
 */
import { referenceIdSchema } from '../builds/build.schema';
import { putCatalogSchema } from '../catalog/catalog.schema';
import { REFERENCE_KINDS, type ReferenceKind } from '../reference/reference.model';
import {
  createReferenceSchema,
  listReferenceQuerySchema,
  updateReferenceSchema,
} from '../reference/reference.schema';
import { catalogViewSchema, referencePageSchema, referenceViewSchema } from '../reference/reference.view';
import { created, ok, type Route } from './route';

const referencePath = { id: referenceIdSchema };

/** Reference data: the same six routes for each kind (projects, platforms, OS versions, image types). */
const referenceRoutes = (kind: ReferenceKind): Route[] => {
  const base = `/${kind.path}`;
  const one = `${base}/{id}`;
  const n = kind.handlerName;
  const view = referenceViewSchema(kind.type);
  const etagged = (description: string) => ok(description, view, ['ETag']);
  return [
    {
      method: 'POST',
      path: base,
      group: 'reference',
      handler: `create${n}`,
      scope: 'write',
      summary: `Create ${kind.article} ${kind.label}`,
      request: { body: createReferenceSchema(kind.type), headers: ['Idempotency-Key'] },
      responses: {
        201: created(`The new ${kind.label}`, view, ['ETag', 'Location', 'Idempotent-Replayed']),
      },
      errors: ['already_exists', 'idempotency_mismatch'],
    },
    {
      method: 'GET',
      path: base,
      group: 'reference',
      handler: `list${n}s`,
      scope: 'read',
      summary: `List ${kind.label}s (active only unless include_deactivated=true)`,
      request: { query: listReferenceQuerySchema },
      responses: { 200: ok(`A page of ${kind.label}s`, referencePageSchema(kind.type)) },
    },
    {
      method: 'GET',
      path: one,
      group: 'reference',
      handler: `get${n}`,
      scope: 'read',
      summary: `Get ${kind.article} ${kind.label}`,
      request: { path: referencePath },
      responses: { 200: etagged(`The ${kind.label}`) },
      errors: ['not_found'],
    },
    {
      method: 'PUT',
      path: one,
      group: 'reference',
      handler: `update${n}`,
      scope: 'write',
      summary: `Update ${kind.article} ${kind.label}'s fields`,
      request: {
        path: referencePath,
        body: updateReferenceSchema(kind.type),
        headers: ['Idempotency-Key', 'If-Match'],
      },
      responses: { 200: ok(`The ${kind.label}, changed`, view, ['ETag', 'Idempotent-Replayed']) },
      errors: ['not_found', 'conflict', 'precondition_failed', 'idempotency_mismatch'],
    },
    {
      method: 'DELETE',
      path: one,
      group: 'reference',
      handler: `deactivate${n}`,
      scope: 'admin',
      summary: `Deactivate ${kind.article} ${kind.label} (soft delete)`,
      request: { path: referencePath },
      responses: { 200: etagged(`The ${kind.label}, deactivated (also when it already was)`) },
      errors: ['not_found', 'conflict'],
    },
    {
      method: 'POST',
      path: `${one}/restore`,
      group: 'reference',
      handler: `restore${n}`,
      scope: 'admin',
      summary: `Reactivate a deactivated ${kind.label}`,
      request: { path: referencePath },
      responses: { 200: etagged(`The ${kind.label}, active again`) },
      errors: ['not_found', 'conflict'],
    },
  ];
};

export const REFERENCE_ROUTES: readonly Route[] = [
  ...REFERENCE_KINDS.flatMap(referenceRoutes),
  {
    method: 'GET',
    path: '/projects/{id}/state-codes',
    group: 'reference',
    handler: 'getStateCodes',
    scope: 'read',
    summary: "A project's state catalog",
    request: { path: referencePath },
    responses: { 200: ok('The catalog', catalogViewSchema, ['ETag']) },
    errors: ['not_found'],
  },
  {
    method: 'PUT',
    path: '/projects/{id}/state-codes',
    group: 'reference',
    handler: 'putStateCodes',
    scope: 'admin',
    summary: "Replace a project's state catalog",
    request: { path: referencePath, body: putCatalogSchema, headers: ['If-Match'] },
    responses: { 200: ok('The catalog, replaced', catalogViewSchema, ['ETag']) },
    errors: ['not_found', 'conflict', 'precondition_failed'],
  },
];
