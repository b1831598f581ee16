import { dispatch } from '../../lib/http/dispatch';
import { handler as health } from './health';
import { handler as ready } from './ready';
import { handler as whoami } from './whoami';

export const handler = dispatch('system', { health, ready, whoami });
