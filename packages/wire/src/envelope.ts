import type { WireErrorCode } from './error-codes.js';

/** docs/protocol.md §2: `{"ok": true, "data": {…}}`. */
export interface SuccessEnvelope<T extends object = Record<string, unknown>> {
  ok: true;
  data: T;
}

/** docs/protocol.md §2: `{"ok": false, "error": {…}}`. */
export interface FailureEnvelope {
  ok: false;
  error: {
    code: WireErrorCode | (string & {});
    message: string;
    detail?: Record<string, unknown>;
  };
}

export type Envelope<T extends object = Record<string, unknown>> =
  | SuccessEnvelope<T>
  | FailureEnvelope;

/** Raw RFC 6749 §5.2 error body of the OAuth token endpoint. */
export interface OAuthErrorBody {
  error: string;
  error_description?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isSuccessEnvelope(v: unknown): v is SuccessEnvelope {
  return isRecord(v) && v.ok === true && isRecord(v.data);
}

export function isFailureEnvelope(v: unknown): v is FailureEnvelope {
  return (
    isRecord(v) &&
    v.ok === false &&
    isRecord(v.error) &&
    typeof v.error.code === 'string' &&
    typeof v.error.message === 'string'
  );
}

export function isOAuthErrorBody(v: unknown): v is OAuthErrorBody {
  return isRecord(v) && typeof v.error === 'string';
}

export function successEnvelope<T extends object>(data: T): SuccessEnvelope<T> {
  return { ok: true, data };
}

export function failureEnvelope(
  code: WireErrorCode | (string & {}),
  message: string,
  detail?: Record<string, unknown>,
): FailureEnvelope {
  return { ok: false, error: detail ? { code, message, detail } : { code, message } };
}
