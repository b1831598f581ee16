/** The channel routes: set (promote), get, history, list. */
import { lineage } from '../../lib/compose/lineage';
import {
  fromOutcome,
  httpHandler,
  mutationOptions,
  parseBody,
  parseQuery,
  pathParam,
} from '../../lib/http/handler';
import {
  channelGetQuerySchema,
  channelHistoryQuerySchema,
  channelNameSchema,
  channelSetSchema,
} from '../../lib/lineage/lineage.schema';

export const setChannel = httpHandler(async (req) =>
  fromOutcome(
    req,
    await lineage().assign(
      pathParam(req, 'name', channelNameSchema),
      parseBody(req, channelSetSchema),
      req.principal,
      mutationOptions(req),
    ),
  ),
);

export const getChannel = httpHandler(async (req) =>
  fromOutcome(
    req,
    await lineage().get(pathParam(req, 'name', channelNameSchema), parseQuery(req, channelGetQuerySchema)),
  ),
);

export const getChannelHistory = httpHandler(async (req) =>
  fromOutcome(
    req,
    await lineage().history(
      pathParam(req, 'name', channelNameSchema),
      parseQuery(req, channelHistoryQuerySchema),
    ),
  ),
);

export const listChannels = httpHandler(async (req) => fromOutcome(req, await lineage().list()));
