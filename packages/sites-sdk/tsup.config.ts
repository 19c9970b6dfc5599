import { packageBuild } from '../../tsup.shared.js';

// The root entry (LimeSite, the web-standard login handlers, RedisReplayStore)
// imports no framework and no Redis client; the Node-only framework adapters
// are subpaths of their own.
export default packageBuild(['src/index.ts', 'src/express.ts', 'src/fastify.ts'], 'node');
