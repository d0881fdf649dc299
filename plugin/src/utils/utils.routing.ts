import { PLUGIN_BASE_URL, type ROUTES } from '../constants';

export function prefixRoute(route: ROUTES): string {
  return `${PLUGIN_BASE_URL}/${route}`;
}
