// lime-agents-sdk: everything exported here is public API. Listed by name on
// purpose — nothing is re-exported wholesale.

export type { LimeErrorCode, LimeErrorOptions } from '@lime/wire';
export {
  AbortError,
  ApiError,
  AuthenticationError,
  ConfigurationError,
  ConflictError,
  ConnectionError,
  ExpiredError,
  HOSTED_API_BASE,
  InvalidResponseError,
  LimeError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from '@lime/wire';
// The MCP SDK's own types, so callers need no second import. Types only: the
// MCP SDK is an optional peer dependency, loaded when the MCP lane is first
// used, so this entry must not import it at run time.
export type { Client as McpSdkClient } from '@modelcontextprotocol/sdk/client/index.js';
export type { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
export type {
  CallToolRequest,
  CallToolResult,
  CompatibilityCallToolResult,
  ErrorCode as McpErrorCode,
  GetPromptRequest,
  GetPromptResult,
  Implementation,
  ListPromptsRequest,
  ListPromptsResult,
  ListResourcesRequest,
  ListResourcesResult,
  ListResourceTemplatesRequest,
  ListResourceTemplatesResult,
  ListToolsRequest,
  ListToolsResult,
  McpError,
  Prompt,
  ReadResourceRequest,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
export { LimeAgent } from './agent.js';
export { McpAuthenticationError, McpSdkMissingError, OAuthCapabilityError } from './errors.js';
export type { McpRequestOptions } from './mcp-client.js';
export { McpClient } from './mcp-client.js';
export type { FetchLike, LimeAgentOptions } from './options.js';
export type { PowProgress, PowSolution, SolveOptions } from './pow/index.js';
export { PowTimeoutError, shutdownPowPool, solvePow } from './pow/index.js';
export type {
  AgentProfile,
  CallOptions,
  LimeMcpAuth,
  LoginOptions,
  LoginProgress,
  LoginResult,
  LoginStep,
  McpAccessToken,
  McpTokenOptions,
} from './types.js';
