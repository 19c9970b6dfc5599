import type { AgentProfileData } from '@lime/wire';
import { InvalidResponseError } from '@lime/wire';
import type { AgentProfile } from '../types.js';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * A reputation score: a finite number, or a numeric string (a Python backend
 * serialising a `Decimal` sends `"87.5"`); anything else is `null`. The site
 * SDK reads the passport's `agent_reputation` the same way.
 */
function score(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/**
 * PROTOCOL §3.6 answer → camelCase profile. Accepts both the `user_*` and
 * the `owner_*` spellings of the owner fields.
 */
export function parseProfile(data: AgentProfileData, headers: Headers): AgentProfile {
  if (typeof data.agent_id !== 'string' || data.agent_id === '') {
    throw new InvalidResponseError(
      'GET /core/agents/me/profile answered 200 without an agent_id — expected the agent profile of PROTOCOL §3.6',
      { headers },
    );
  }
  const kyc = data.user_kyc_level ?? data.owner_kyc_level ?? null;
  return {
    agentId: data.agent_id,
    userId: str(data.user_id) ?? str(data.owner_id),
    displayName: str(data.display_name),
    avatarUrl: str(data.avatar_url),
    description: str(data.description),
    userKycLevel: typeof kyc === 'number' || typeof kyc === 'string' ? kyc : null,
    agentReputation: score(data.agent_reputation),
  };
}
