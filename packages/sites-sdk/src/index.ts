// Public API of lime-sites-sdk. Everything exported here is a promise to users:
// add with care, never `export *`.

export type { FetchLike, LimeErrorCode } from '@lime/wire';
export {
  AbortError,
  ApiError,
  AuthenticationError,
  ConfigurationError,
  ConflictError,
  ConnectionError,
  ExpiredError,
  InvalidResponseError,
  LimeError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from '@lime/wire';
export type { InvalidPassportReason } from './errors.js';
export {
  InvalidPassportError,
  LoginExpiredError,
  LoginRequestNotFoundError,
  PassportNotReceivedError,
  StreamClosedError,
} from './errors.js';
export type {
  BindingRequest,
  ClaimPassportOptions,
  ConnectOptions,
  CreateBindingRequestOptions,
  CreateLoginRequestOptions,
  EventsOptions,
  GetLoginRequestOptions,
  LimeSiteStats,
  LoginRequest,
  LoginRequestStatus,
  VerifyBindingPassportOptions,
  VerifyPassportOptions,
  WaitForLoginOptions,
} from './lime-site.js';
export { LimeSite } from './lime-site.js';
export type {
  LoginHandlers,
  LoginHandlersOptions,
  LoginResult,
  SessionCookie,
} from './login-handlers.js';
export { createLoginHandlers } from './login-handlers.js';
export type { LimeSiteJwksOptions, LimeSiteOptions } from './options.js';
export type { BindingPassport, Passport } from './passport.js';
export type {
  IoRedisLike,
  NodeRedisLike,
  RedisClientLike,
  RedisReplayStoreOptions,
} from './redis-replay-store.js';
export { RedisReplayStore } from './redis-replay-store.js';
export type { MemoryReplayStoreOptions, ReplayStore } from './replay-store.js';
export { MemoryReplayStore } from './replay-store.js';
export type {
  ConnectedEvent,
  DisconnectedEvent,
  ErrorHandler,
  LoginEvent,
  LoginExpiredEvent,
  LoginHandler,
  LoginRejectedEvent,
  ResyncEvent,
  SiteEvent,
  StreamErrorEvent,
} from './site-events.js';
