import type { AgentProfileData } from '@lime/wire';
import { InvalidResponseError } from '@lime/wire';
import type { AgentProfile } from '../types.js';

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

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
  const reputation = data.agent_reputation;
  return {
    agentId: data.agent_id,
    userId: str(data.user_id) ?? str(data.owner_id),
    displayName: str(data.display_name),
    avatarUrl: str(data.avatar_url),
    description: str(data.description),
    userKycLevel: typeof kyc === 'number' || typeof kyc === 'string' ? kyc : null,
    agentReputation:
      typeof reputation === 'number' && Number.isFinite(reputation) ? reputation : null,
  };
}
