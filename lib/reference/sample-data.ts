/**
 * The reference data the product's first examples use (`--platform aws --image-type rhel8`,
 * `--project-id rhel-9 --platform-id aws-commercial --os-version-id rhel-9.3 --image-type-id base`),
 * created on the first start of a local data folder (BUILDSTATE_SAMPLE_DATA=0 turns it off) and on
 * a deployed table only when asked (`npm run bootstrap:admin-key -- --sample-data`).
 * Where a seed example creates an item of the same id (`image-type create --name web-server`),
 * the sample has the example's exact values, so that create finds it identical.
 */
import type { Principal } from '../auth/principal';
import { AppError } from '../errors';
import type { ReferenceType } from './reference.model';
import type { ReferenceService } from './reference.service';

type Sample = readonly [ReferenceType, Record<string, unknown> & { id: string; name: string }];

const platform = (
  id: string,
  name: string,
  cloud_provider: string,
  region: string | null = null,
  partition: string | null = null,
): Sample => ['platform', { id, name, cloud_provider, region, partition }];

export const SAMPLE_REFERENCES: readonly Sample[] = [
  ['project', { id: 'rhel-9', name: 'RHEL 9', description: 'RHEL 9 images' }],
  platform('aws', 'AWS', 'aws'),
  platform('aws-commercial', 'AWS commercial', 'aws', 'us-east-1'),
  platform('aws-govcloud', 'AWS GovCloud (US)', 'aws', 'us-gov-west-1', 'aws-us-gov'),
  platform('aws-china', 'AWS China', 'aws', 'cn-north-1', 'aws-cn'),
  platform('azure', 'Azure', 'azure'),
  platform('azure-commercial', 'Azure commercial', 'azure', 'eastus'),
  platform('azure-government', 'Azure Government', 'azure', 'usgovvirginia', 'azure-us-government'),
  platform('gcp', 'Google Cloud', 'gcp'),
  platform('oracle', 'Oracle Cloud', 'oci'),
  platform('openstack', 'OpenStack', 'openstack'),
  ['os_version', { id: 'rhel-8.7', name: 'RHEL', version: '8.7' }],
  ['os_version', { id: 'rhel-9.3', name: 'RHEL', version: '9.3' }],
  ['os_version', { id: 'ubuntu-22.04', name: 'Ubuntu', version: '22.04' }],
  ['image_type', { id: 'rhel8', name: 'RHEL 8', description: 'RHEL 8 base image' }],
  ['image_type', { id: 'rhel8-webserver', name: 'RHEL 8 web server', description: 'RHEL 8 with Nginx' }],
  ['image_type', { id: 'base', name: 'base', description: 'Base image' }],
  ['image_type', { id: 'web-server', name: 'web-server', description: 'Nginx web server' }],
];

/** Creates every sample item that is not there yet (existing ones, even deactivated, are left alone). */
export async function ensureSampleData(references: ReferenceService, actor: Principal): Promise<number> {
  let created = 0;
  for (const [type, input] of SAMPLE_REFERENCES) {
    try {
      await references.create(type, input, actor);
      created++;
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'already_exists')) throw error;
    }
  }
  return created;
}
