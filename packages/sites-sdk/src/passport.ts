import type { ReceivedBindingPassportClaims, ReceivedPassportClaims } from '@lime/wire';

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
  /** The agent that logged in: `sub`, else `agent_id` (the hosted platform may send either). */
  agentId: string;
  /** The human owner of the agent (`user_id`); `null` when the passport has none (reported in `warnings`). */
  userId: string | null;
  /** KYC level of the owner (`user_kyc_level`), as the Core sent it; `null` when absent or unreadable. */
  userKycLevel: number | string | null;
  /** Reputation of the agent (`agent_reputation`); `null` when absent or unreadable. */
  agentReputation: number | null;
  /** The login request this passport answers (`request_id`). */
  requestId: string;
  /** Your site (`site_id`), when the passport names it (checked against `siteId` when you configure one). */
  siteId: string | undefined;
  /**
   * Unique passport id (`jti`), when present. Single use is keyed on it,
   * else on `request_id`. Already claimed in the replay store when the
   * passport came from `waitForLogin` or `verifyPassport`; not yet when it
   * came from `onLogin` or `events()` — call `site.claimPassport()` first.
   */
  jti: string | undefined;
  /** Who issued it (`iss`), when present (checked against `issuer` when you configure one). */
  issuer: string | undefined;
  /** `iat` as a Date. */
  issuedAt: Date;
  /** `exp` as a Date. */
  expiresAt: Date;
  /** `passport_version`, as sent (the hosted platform may send a string, or nothing). */
  passportVersion: number | string | undefined;
  /**
   * Claim oddities that were tolerated, not fatal (PROTOCOL.md §4): a
   * `user_id` of `null`, a `passport_version` sent as a string, a reputation
   * that is not a number… Empty for a passport of the reference Core.
   */
  warnings: readonly string[];
  /** Every claim, as received. */
  claims: ReceivedPassportClaims;
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
  /**
   * The agent being linked: `sub`, else `agent_id`. `undefined` only if the
   * passport names neither (PROTOCOL.md §5 lets the hosted platform send
   * just `binding_id`): then look the agent up by `bindingId`.
   */
  agentId: string | undefined;
  /** The binding this passport completes (`binding_id`). */
  bindingId: string;
  /** The agent's owner (`user_id`), when present. */
  userId: string | undefined;
  /** Your site (`site_id`), when present. */
  siteId: string | undefined;
  /** Unique passport id (`jti`), when present; single use is keyed on it, else on `binding_id`. */
  jti: string | undefined;
  /** Who issued it (`iss`), when present. */
  issuer: string | undefined;
  /** `iat` as a Date. */
  issuedAt: Date;
  /** `exp` as a Date. */
  expiresAt: Date;
  /** Every claim, as received. */
  claims: ReceivedBindingPassportClaims;
}
