import { dispatch } from '../../lib/http/dispatch';
import { handler as health } from './health';
import { handler as ready } from './ready';

export const handler = dispatch('system', { health, ready });
