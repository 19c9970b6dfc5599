// Login and binding requests over HTTP (PROTOCOL.md §3.1, §3.1b, §5): create
// them, read a login request's status, and turn the Core's answers into the
// SDK's shapes, refusing answers without the fields the protocol promises.
import {
  type CreateBindingRequestData,
  type CreateLoginRequestData,
  type HttpClient,
  InvalidResponseError,
  LimeError,
  PATHS,
} from '@lime/wire';
import { LoginRequestNotFoundError } from '../errors.js';
import type { BindingRequest, LoginRequest, LoginRequestStatus } from '../lime-site.js';

/** The request endpoints of the Core, for one site (its token is in the client's headers). */
export class LoginRequests {
  constructor(private readonly http: HttpClient) {}

  /** POST a headless login request. Never retried (it is not idempotent). */
  async create(signal: AbortSignal | undefined): Promise<LoginRequest> {
    const { data } = await this.http.request<CreateLoginRequestData>(
      'POST',
      PATHS.createLoginRequest,
      { body: {}, signal, idempotent: false },
    );
    const loginRequestId = requireString(data, 'login_request_id', PATHS.createLoginRequest);
    return {
      loginRequestId,
      status: typeof data.status === 'string' ? data.status : 'PENDING',
      expiresAt: requireDate(data, 'expires_at', PATHS.createLoginRequest),
    };
  }

  /** GET one login request; {@link LoginRequestNotFoundError} for an id the Core does not know. */
  async get(requestId: string, signal: AbortSignal | undefined): Promise<LoginRequestStatus> {
    if (typeof requestId !== 'string' || requestId.length === 0) {
      throw new TypeError('getLoginRequest: requestId must be a non-empty string');
    }
    let data: Record<string, unknown>;
    try {
      ({ data } = await this.http.request<Record<string, unknown>>(
        'GET',
        PATHS.loginRequest(requestId),
        { signal },
      ));
    } catch (error) {
      // An unknown id, as the Core or the hosted platform spells it — not a
      // missing route (`NOT_FOUND`), which says nothing about the request.
      if (
        error instanceof LimeError &&
        error.status === 404 &&
        (error.code === 'REQUEST_NOT_FOUND' || error.code === 'SITE_LOGIN_REQUEST_NOT_FOUND')
      ) {
        throw new LoginRequestNotFoundError(requestId, { cause: error });
      }
      throw error;
    }
    const expires = typeof data.expires_at === 'string' ? new Date(data.expires_at) : undefined;
    return {
      loginRequestId:
        typeof data.login_request_id === 'string' && data.login_request_id.length > 0
          ? data.login_request_id
          : requestId,
      status: typeof data.status === 'string' && data.status.length > 0 ? data.status : 'UNKNOWN',
      expiresAt: expires && !Number.isNaN(expires.getTime()) ? expires : undefined,
      data,
    };
  }

  /** POST a binding request for `redirectUri` (an absolute http(s) URL). */
  async createBinding(
    redirectUri: unknown,
    signal: AbortSignal | undefined,
  ): Promise<BindingRequest> {
    if (typeof redirectUri !== 'string' || !/^https?:\/\/[^/]/i.test(redirectUri)) {
      throw new TypeError(
        `createBindingRequest: redirectUri must be an absolute https URL, got '${String(redirectUri).slice(0, 100)}'`,
      );
    }
    const { data } = await this.http.request<CreateBindingRequestData>(
      'POST',
      PATHS.createBindingRequest,
      { body: { redirect_uri: redirectUri }, signal, idempotent: false },
    );
    return {
      bindingId: requireString(data, 'binding_id', PATHS.createBindingRequest),
      connectUrl: requireString(data, 'connect_url', PATHS.createBindingRequest),
      status: typeof data.status === 'string' ? data.status : 'PENDING',
      expiresAt: requireDate(data, 'expires_at', PATHS.createBindingRequest),
    };
  }
}

export function requireString(
  data: Record<string, unknown> | object,
  name: string,
  path: string,
): string {
  const value = (data as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidResponseError(
      `POST ${path} answered without a '${name}' string — expected the PROTOCOL.md shape`,
    );
  }
  return value;
}

export function requireDate(
  data: Record<string, unknown> | object,
  name: string,
  path: string,
): Date {
  const value = requireString(data, name, path);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidResponseError(
      `POST ${path} answered '${name}' = '${value.slice(0, 40)}', expected an RFC 3339 time`,
    );
  }
  return date;
}
