import { login } from '../../../lib/lime';

// 201 { loginRequestId, expiresAt } and the signed login cookie: hand the id to the agent.
export const POST = login.start;
