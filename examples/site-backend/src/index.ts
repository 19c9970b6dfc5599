// The example site backend, importable by the demo and the tests.
export type { AgentSession, SiteAppOptions, SiteBackendEvent } from './site-app.js';
export { createSiteApp, LOGIN_COOKIE, SESSION_COOKIE } from './site-app.js';
export type { SiteBackend, SiteBackendOptions } from './start-site-backend.js';
export { startSiteBackend } from './start-site-backend.js';
