import { packageBuild } from '../../tsup.shared.js';

// One entry on purpose: every SDK imports the same module instance, so
// `instanceof LimeError` holds across the HTTP client, the JWT verifier and
// the SDK's own error classes.
export default packageBuild(['src/index.ts'], 'neutral');
