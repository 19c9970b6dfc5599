import { login } from '../../../lib/lime';

// Waits for the agent's approval, then 200 and the session cookie set by onLogin.
export const POST = login.finish;
