import { dispatch } from '../../lib/http/dispatch';
import { handler as getArtifact } from './get-artifact';
import { handler as listArtifacts } from './list-artifacts';
import { handler as registerArtifact } from './register-artifact';
import { handler as verifyArtifact } from './verify-artifact';

export const handler = dispatch('artifacts', {
  registerArtifact,
  listArtifacts,
  getArtifact,
  verifyArtifact,
});
