import { dispatch } from '../../lib/http/dispatch';
import { SYSTEM_ROUTES } from '../../lib/http/system.routes';
import { handler as health } from './health';
import { handler as ready } from './ready';
import { handler as whoami } from './whoami';

export const handler = dispatch('system', SYSTEM_ROUTES, { health, ready, whoami });
