/**
 * Reference data: the projects, platforms, OS versions and image types builds refer to.
 * Ids are slugs users choose (`aws-commercial`, `rhel-9.3`); deletes are soft (`deactivated_at`).
 */
export const CLOUD_PROVIDERS = [
  'aws',
  'azure',
  'gcp',
  'oci',
  'alibaba',
  'openstack',
  'vsphere',
  'other',
] as const;
export type CloudProvider = (typeof CLOUD_PROVIDERS)[number];

export type ReferenceType = 'project' | 'platform' | 'os_version' | 'image_type';

export interface ReferenceKind {
  type: ReferenceType;
  /** URL collection: /projects, /platforms, … */
  path: string;
  label: string;
  article: 'a' | 'an';
  /** Suffix of the handler names in the route table (createProject, listProjects, …). */
  handlerName: string;
  /** The build field that names an item of this kind. */
  buildField: 'project_id' | 'platform_id' | 'os_version_id' | 'image_type_id';
}

export const REFERENCE_KINDS: readonly ReferenceKind[] = [
  {
    type: 'project',
    path: 'projects',
    label: 'project',
    article: 'a',
    handlerName: 'Project',
    buildField: 'project_id',
  },
  {
    type: 'platform',
    path: 'platforms',
    label: 'platform',
    article: 'a',
    handlerName: 'Platform',
    buildField: 'platform_id',
  },
  {
    type: 'os_version',
    path: 'os-versions',
    label: 'OS version',
    article: 'an',
    handlerName: 'OsVersion',
    buildField: 'os_version_id',
  },
  {
    type: 'image_type',
    path: 'image-types',
    label: 'image type',
    article: 'an',
    handlerName: 'ImageType',
    buildField: 'image_type_id',
  },
];

export const referenceKind = (type: ReferenceType): ReferenceKind =>
  REFERENCE_KINDS.find((k) => k.type === type)!;

/** The project every build belongs to unless it names another; created by the bootstrap. */
export const DEFAULT_PROJECT_ID = 'default';

/** Fields every kind has; kind-specific ones (cloud_provider, version, …) sit beside them. */
export interface ReferenceItem {
  id: string;
  name: string;
  description: string | null;
  [field: string]: unknown;
  version: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
  deactivated_at: string | null;
  deactivated_by: string | null;
}
