// lime-core: the reference LIME Core. Everything exported here is public API.

export { ADMIN_PREFIX } from './internal/http-api.js';
export { MemoryStore } from './memory-store.js';
export type {
  CoreLogEntry,
  CoreOptions,
  CoreProfile,
  JwksShape,
  RateLimitBucket,
  RateLimitOptions,
} from './options.js';
export type {
  CallOptions,
  Core,
  CoreAdmin,
  CreateAgentInput,
  CreatedAgentResult,
  CreatedSiteResult,
  CreateSiteInput,
  SigningKeyActivation,
} from './start-core.js';
export { startCore } from './start-core.js';
export type {
  AgentRecord,
  BindingRecord,
  CoreStore,
  EventReplay,
  LoginRequestRecord,
  SiteRecord,
  StoredEvent,
} from './store.js';
