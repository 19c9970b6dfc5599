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
// The MCP SDK's own types and errors, so callers need no second import.
export { Client as McpSdkClient } from '@modelcontextprotocol/sdk/client/index.js';
export { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
export type {
  CallToolRequest,
  CallToolResult,
  CompatibilityCallToolResult,
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
  Prompt,
  ReadResourceRequest,
  ReadResourceResult,
  Resource,
  ResourceTemplate,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
export { ErrorCode as McpErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
export { LimeAgent } from './agent.js';
export { McpAuthenticationError, OAuthCapabilityError } from './errors.js';
export type { McpRequestOptions } from './mcp-client.js';
export { McpClient } from './mcp-client.js';
export type { FetchLike, LimeAgentOptions } from './options.js';
export type { PowSolution, SolveOptions } from './pow/index.js';
export { PowTimeoutError, shutdownPowPool, solvePow } from './pow/index.js';
export type {
  AgentProfile,
  CallOptions,
  LoginResult,
  McpAccessToken,
  McpTokenOptions,
} from './types.js';
