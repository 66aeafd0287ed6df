import type { AdminSiteConfig } from '../../lib/declarations/admin-site';
import { ADMIN_SITE_CONFIG_PATH } from '../../lib/declarations/admin-site';

export type { AdminSiteConfig };

/** The runtime configuration (config.json), fetched at start: the same build runs locally and on every stack. */
export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<AdminSiteConfig> {
  const response = await fetchImpl(ADMIN_SITE_CONFIG_PATH, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${ADMIN_SITE_CONFIG_PATH} answered ${response.status}`);
  const config = (await response.json()) as Partial<AdminSiteConfig>;
  if (typeof config.apiUrl !== 'string' || !config.auth || (config.auth.mode !== 'local' && config.auth.mode !== 'cognito')) {
    throw new Error(`${ADMIN_SITE_CONFIG_PATH} is not an admin site configuration`);
  }
  return config as AdminSiteConfig;
}
