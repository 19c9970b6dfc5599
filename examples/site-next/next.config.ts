import type { NextConfig } from 'next';

// Nothing LIME needs here: the route handlers are web-standard functions and
// Next bundles lime-sites-sdk once for all routes (see README.md).
const config: NextConfig = {};

export default config;
