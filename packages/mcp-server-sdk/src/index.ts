// lime-mcp-server-sdk: verify LIME bearers in any MCP server. This root entry
// is runtime-neutral (fetch + WebCrypto, Node's crypto found at run time): it
// imports nothing from `node:` or express. Express lives in `./express`.
export type { McpTokenFailureReason } from './errors.js';
export { McpTokenError } from './errors.js';
export type { AuthorizationServerInfo } from './internal/metadata-source.js';
export type {
  LimeAuthExtra,
  LimeAuthInfo,
  LimeMcpVerifierOptions,
  McpBearerClaims,
  McpTokenInfo,
  McpTokenRejection,
  McpVerifyResult,
} from './verifier.js';
export { LimeMcpVerifier } from './verifier.js';
export type {
  LimeProtectedHandler,
  ProtectedResourceMetadataOptions,
  WebBearerAuth,
  WebBearerAuthOptions,
  WithLimeMcpAuthOptions,
} from './web-handlers.js';
export {
  createProtectedResourceMetadataHandler,
  createWebBearerAuth,
  protectedResourceMetadataUrl,
  withLimeMcpAuth,
} from './web-handlers.js';
