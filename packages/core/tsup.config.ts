import { packageBuild } from '../../tsup.shared.js';

// The CLI (`bin`) is built as ESM only: nothing requires it.
export default packageBuild(['src/index.ts'], 'node', { binEntries: ['src/cli.ts'] });
