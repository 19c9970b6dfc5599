/**
 * The login event stream of docs/protocol.md §3.5. One `data:` line per event,
 * holding one JSON object on one line.
 */

export const EVENT_TYPES = ['approved', 'expired', 'keepalive', 'error', 'resync'] as const;
export type LoginEventType = (typeof EVENT_TYPES)[number];

export interface ApprovedEvent {
  type: 'approved';
  login_request_id: string;
  agent_passport_jwt: string;
  redirect_url?: string;
}

export interface ExpiredEvent {
  type: 'expired';
  login_request_id: string;
}

export interface KeepaliveEvent {
  type: 'keepalive';
}

export interface StreamErrorEvent {
  type: 'error';
  code: string;
  message: string;
}

/** [extension] The `Last-Event-ID` was older than retention: events may be lost. */
export interface ResyncEvent {
  type: 'resync';
}

export type LoginWireEvent =
  | ApprovedEvent
  | ExpiredEvent
  | KeepaliveEvent
  | StreamErrorEvent
  | ResyncEvent;

/** The Core sends a keepalive at least this often (ms). */
export const KEEPALIVE_INTERVAL_MS = 15_000;

/** Default `retry:` the Core announces at stream start (ms). */
export const DEFAULT_RETRY_MS = 1_000;

/** Minimum retention of a site's events by the reference Core (ms). */
export const MIN_EVENT_RETENTION_MS = 10 * 60_000;

/**
 * Event ids of the reference Core: `<epoch>-<n>` — the event log's epoch
 * (hex) and a per-site strictly increasing decimal integer. Clients treat ids
 * as opaque strings (docs/protocol.md §3.5); this is for tests and tools.
 */
export const EVENT_ID_PATTERN = /^[0-9a-f]{1,32}-(0|[1-9][0-9]{0,15})$/;

/** Login request lifecycle states (docs/protocol.md §3). */
export const LOGIN_STATUSES = ['PENDING', 'APPROVED', 'DELIVERED', 'EXPIRED'] as const;
export type LoginStatus = (typeof LOGIN_STATUSES)[number];

/** §3.1 answer. */
export interface CreateLoginRequestData {
  login_request_id: string;
  status: 'PENDING';
  expires_at: string;
}

/** §3.2 answer. */
export interface LoginChallengeData {
  request_id: string;
  status: LoginStatus;
  pow_challenge: string;
  pow_difficulty: number;
  expires_at: string;
}

/** §3.4 answer. */
export interface ApproveData {
  request_id: string;
  site_id: string;
  status: 'APPROVED' | 'DELIVERED';
  expires_at: string;
  approved_agent_id: string;
}

/** §3.6 answer, with the alternative spellings clients accept. */
export interface AgentProfileData {
  agent_id: string;
  user_id?: string;
  owner_id?: string;
  display_name: string | null;
  avatar_url: string | null;
  description: string | null;
  user_kyc_level?: number | string | null;
  owner_kyc_level?: number | string | null;
  agent_reputation: number | null;
}

/** §5 answer. */
export interface CreateBindingRequestData {
  binding_id: string;
  connect_url: string;
  status: string;
  expires_at: string;
}
