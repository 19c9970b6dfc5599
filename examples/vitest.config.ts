import { projectConfig } from '../vitest.shared.js';

export default projectConfig('examples', { testTimeout: 60_000 });
