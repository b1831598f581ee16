import { dispatch } from '../../lib/http/dispatch';
import { LINEAGE_ROUTES } from '../../lib/http/lineage.routes';
import { handler as addImage } from './add-image';
import { getChannel, getChannelHistory, listChannels, setChannel } from './channels';
import { handler as getLineage } from './get-lineage';
import { handler as listImages } from './list-images';
import { handler as restoreBuild } from './restore-build';
import { handler as revokeBuild } from './revoke-build';

export const handler = dispatch('lineage', LINEAGE_ROUTES, {
  addImage,
  listImages,
  getLineage,
  revokeBuild,
  restoreBuild,
  setChannel,
  getChannel,
  getChannelHistory,
  listChannels,
});
