// `pnpm --filter lime-example-site-backend start`: run the site on its own.
//   LIME_API_BASE=http://127.0.0.1:8787/api/v1 LIME_SITE_TOKEN=st_… PORT=3000 pnpm start
import { startSiteBackend } from './start-site-backend.js';

const backend = await startSiteBackend({
  port: Number(process.env.PORT ?? 3000),
  onEvent: (event) => {
    if (event.type === 'login-started')
      console.log(`login request ${event.loginRequestId} created`);
    if (event.type === 'session-opened') {
      console.log(
        `session opened for agent ${event.session.agentId} (owner ${event.session.userId})`,
      );
    }
    if (event.type === 'login-failed')
      console.log(`login ${event.loginRequestId} failed: ${event.code}`);
  },
});
console.log(`site backend on ${backend.url} (Core ${backend.site.apiBase})`);
console.log(`  curl -i -X POST ${backend.url}/login/start`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void backend.close().then(() => process.exit(0)));
}
