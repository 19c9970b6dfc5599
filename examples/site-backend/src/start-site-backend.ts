import type { AddressInfo } from 'node:net';
import { LimeSite, type LimeSiteOptions } from 'lime-sites-sdk';
import { createSiteApp, type SiteAppOptions } from './site-app.js';

/** Options of {@link startSiteBackend}. */
export interface SiteBackendOptions extends SiteAppOptions {
  /** API base of the Core (with `/api/v1`). @default process.env.LIME_API_BASE, else hosted */
  apiBase?: string;
  /** The site token (`st_…`). @default process.env.LIME_SITE_TOKEN */
  siteToken?: string;
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Any other {@link LimeSite} option (reconnect delays, JWKS cache, …). @default {} */
  siteOptions?: LimeSiteOptions;
}

/** A running site backend. */
export interface SiteBackend {
  /** `http://host:port` of the site. */
  url: string;
  /** The SDK instance (one per process), e.g. for `site.events()`. */
  site: LimeSite;
  /** Stop the HTTP server and the site's event stream. */
  close(): Promise<void>;
}

/**
 * Start the example site backend: one {@link LimeSite}, its event stream
 * opened up front (so a bad token fails at startup, not at the first login),
 * and the express app of {@link createSiteApp}.
 *
 * @example
 * const backend = await startSiteBackend({ apiBase: core.apiBase, siteToken, port: 3000 });
 * // POST http://127.0.0.1:3000/login/start …
 * await backend.close();
 */
export async function startSiteBackend(options: SiteBackendOptions = {}): Promise<SiteBackend> {
  const site = new LimeSite({
    ...options.siteOptions,
    ...(options.apiBase === undefined ? {} : { apiBase: options.apiBase }),
    ...(options.siteToken === undefined ? {} : { siteToken: options.siteToken }),
  });
  try {
    await site.connect({ signal: AbortSignal.timeout(15_000) });
    const app = createSiteApp(site, options);
    const server = app.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve).once('error', reject);
    });
    const { address, port } = server.address() as AddressInfo;
    return {
      url: `http://${address}:${port}`,
      site,
      async close() {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await site.close();
      },
    };
  } catch (error) {
    await site.close();
    throw error;
  }
}
