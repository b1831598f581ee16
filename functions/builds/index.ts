import { BUILDS_ROUTES } from '../../lib/http/builds.routes';
import { dispatch } from '../../lib/http/dispatch';
import { handler as cancelBuild } from './cancel-build';
import { handler as createBuild } from './create-build';
import { handler as forkBuild } from './fork-build';
import { handler as getBuild } from './get-build';
import { handler as getHistory } from './get-history';
import { handler as listBuilds } from './list-builds';
import { handler as listChildren } from './list-children';
import { handler as unblockBuild } from './unblock-build';

export const handler = dispatch('builds', BUILDS_ROUTES, {
  createBuild,
  listBuilds,
  getBuild,
  getHistory,
  cancelBuild,
  unblockBuild,
  forkBuild,
  listChildren,
});
