import { packageBuild } from '../../tsup.shared.js';

// The root entry runs on edge runtimes too; the express adapter is a subpath.
export default packageBuild(['src/index.ts', 'src/express.ts'], 'neutral');
