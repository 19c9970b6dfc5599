import type { BindingPassportClaims, PassportClaims } from '@lime/wire';

/**
 * A verified site passport (PROTOCOL.md §4): who logged in, for which of your
 * login requests. Only ever produced by verification — signature, audience,
 * lifetime, issuer, `request_id` binding and single use were all checked.
 *
 * @example
 * const passport = await site.waitForLogin(loginRequestId);
 * req.session.agentId = passport.agentId;
 * req.session.userId = passport.userId;
 */
export interface Passport {
  /** The agent that logged in (`sub`). */
  agentId: string;
  /** The human owner of the agent (`user_id`). */
  userId: string;
  /** KYC level of the owner (`user_kyc_level`), as the Core sent it. */
  userKycLevel: number | string | null;
  /** Reputation of the agent (`agent_reputation`). */
  agentReputation: number | null;
  /** The login request this passport answers (`request_id`). */
  requestId: string;
  /** Your site (`site_id`). */
  siteId: string;
  /**
   * Unique passport id (`jti`). Already claimed in the replay store when the
   * passport came from `waitForLogin` or `verifyPassport`; not yet when it
   * came from `onLogin` or `events()` — call `site.claimPassport()` first.
   */
  jti: string;
  /** Who issued it (`iss`). */
  issuer: string;
  /** `iat` as a Date. */
  issuedAt: Date;
  /** `exp` as a Date. */
  expiresAt: Date;
  /** `passport_version`. */
  passportVersion: number | string;
  /** Every claim, as received. */
  claims: PassportClaims;
}

/**
 * A verified binding passport (PROTOCOL.md §5): an agent linked to one of
 * your user accounts.
 *
 * @example
 * const binding = await site.verifyBindingPassport(String(req.query.passport), {
 *   expectedBindingId: req.session.bindingId,
 * });
 * await db.linkAgent(binding.bindingId, binding.agentId);
 */
export interface BindingPassport {
  /** The agent being linked (`sub`). */
  agentId: string;
  /** The binding this passport completes (`binding_id`). */
  bindingId: string;
  /** The agent's owner (`user_id`), when present. */
  userId: string | undefined;
  /** Your site (`site_id`), when present. */
  siteId: string | undefined;
  /** Unique passport id (`jti`), already consumed in the replay store. */
  jti: string;
  /** Who issued it (`iss`). */
  issuer: string;
  /** `iat` as a Date. */
  issuedAt: Date;
  /** `exp` as a Date. */
  expiresAt: Date;
  /** Every claim, as received. */
  claims: BindingPassportClaims;
}
