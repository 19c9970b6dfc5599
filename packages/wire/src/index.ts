// The wire facts shared by the reference Core and the three SDKs. Published
// as a dependency of each SDK; users never import it directly (see README.md).

export type {
  AuthorizationServerMetadata,
  BindingPassportClaims,
  JwksDocument,
  McpTokenClaims,
  OAuthTokenResponse,
  PassportClaims,
  ReceivedBindingPassportClaims,
  ReceivedPassportClaims,
  RegisteredClaims,
  RsaPublicJwk,
} from './claims.js';
export {
  AUDIENCE,
  extractJwkSet,
  JWT_ALG,
  LIFETIMES,
  MCP_AUTH_DOCS_URL,
  MCP_DEFAULT_SCOPE,
  MCP_FORBIDDEN_CLAIMS,
  MIN_RSA_BITS,
  OAUTH_TOKEN_RESPONSE_KEYS,
  RSA_EXPONENT_B64U,
} from './claims.js';
export { domainProblem, normalizeMcpDomain } from './domain.js';
export type {
  Envelope,
  FailureEnvelope,
  OAuthErrorBody,
  SuccessEnvelope,
} from './envelope.js';
export {
  failureEnvelope,
  isFailureEnvelope,
  isOAuthErrorBody,
  isSuccessEnvelope,
  successEnvelope,
} from './envelope.js';
export type { CoreErrorCode, WireErrorCode } from './error-codes.js';
export {
  AUTHENTICATION_CODES,
  CORE_ERROR_CODES,
  RETRYABLE_STATUSES,
  WIRE_ERROR_CODES,
} from './error-codes.js';
export type { ClientErrorCode, LimeErrorCode, LimeErrorOptions } from './errors.js';
export {
  AbortError,
  ApiError,
  AuthenticationError,
  ConfigurationError,
  ConflictError,
  ConnectionError,
  ExpiredError,
  errorClassFor,
  InvalidResponseError,
  LimeError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  redact,
  ServerError,
  TimeoutError,
  ValidationError,
} from './errors.js';
export type {
  AgentProfileData,
  ApproveData,
  ApprovedEvent,
  CreateBindingRequestData,
  CreateLoginRequestData,
  ExpiredEvent,
  KeepaliveEvent,
  LoginChallengeData,
  LoginEventType,
  LoginStatus,
  LoginWireEvent,
  ResyncEvent,
  StreamErrorEvent,
} from './events.js';
export {
  DEFAULT_RETRY_MS,
  EVENT_ID_PATTERN,
  EVENT_TYPES,
  KEEPALIVE_INTERVAL_MS,
  LOGIN_STATUSES,
  MIN_EVENT_RETENTION_MS,
} from './events.js';
export type { FetchLike, HttpClientOptions, HttpResult, RequestOptions } from './http-client.js';
export {
  backoffDelay,
  HttpClient,
  isRetryable,
  parseRetryAfter,
  readBodyLimited,
  sleep,
} from './http-client.js';
export type {
  AudienceArrayPolicy,
  CryptoBackendName,
  CryptoPreference,
  IgnoredJwk,
  JwksCacheOptions,
  JwksCacheStats,
  JwksKey,
  JwtClaims,
  JwtFailureReason,
  JwtHeader,
  JwtKeySource,
  JwtPolicy,
  JwtVerifierOptions,
  JwtVerifyFunction,
  VerifiedJwt,
} from './jwt/index.js';
export {
  createJwtVerifier,
  defaultCryptoBackend,
  JwksCache,
  JwtVerificationError,
  verifyJwt,
} from './jwt/index.js';
export {
  API_PREFIX,
  ENV,
  HEADERS,
  HOSTED_API_BASE,
  HOSTED_ORIGIN,
  PATHS,
  toApiBase,
  toOrigin,
  trimTrailingSlash,
} from './paths.js';
export {
  DEFAULT_POW_DIFFICULTY,
  expectedHashes,
  isValidNonce,
  leadingZeroBits,
  MAX_NONCE,
  MAX_POW_DIFFICULTY,
  meetsDifficulty,
  NONCE_PATTERN,
  powPreimage,
} from './pow.js';
export { warnOnce } from './process-warning.js';
export { sameOriginRedirectsOnly } from './redirect-guard.js';
export type { UndiciAgent, UndiciAgentOptions } from './undici-agent.js';
export { loadUndiciAgent } from './undici-agent.js';
