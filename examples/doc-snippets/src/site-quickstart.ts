import { randomUUID } from 'node:crypto';
import express from 'express';
import { type LimeSite, LoginExpiredError } from 'lime-sites-sdk';

/**
 * A site backend that lets agents log in. `site` is one `new LimeSite()` per
 * process (it reads LIME_SITE_TOKEN and LIME_API_BASE).
 */
export function createLoginRoutes(site: LimeSite): express.Express {
  const app = express();
  const pending = new Map<string, string>(); // client handle → login request id
  const sessions = new Map<string, { agentId: string; userId: string | null }>();

  // 1. The agent asks to log in: create a request and bind it to this client.
  app.post('/login/start', async (_req, res) => {
    const { loginRequestId } = await site.createLoginRequest();
    const handle = randomUUID();
    pending.set(handle, loginRequestId);
    res.status(201).json({ loginRequestId, handle });
  });

  // 2. The agent approved at the Core: wait for the verified passport.
  app.post('/login/finish/:handle', async (req, res) => {
    const loginRequestId = pending.get(req.params.handle);
    if (!loginRequestId) return void res.status(400).json({ error: 'start a login first' });
    pending.delete(req.params.handle);
    try {
      // Signature, audience, issuer, lifetime, request_id and single use are
      // all checked before this resolves.
      const passport = await site.waitForLogin(loginRequestId, { timeout: 60_000 });
      const sessionId = randomUUID();
      sessions.set(sessionId, { agentId: passport.agentId, userId: passport.userId });
      res.json({ sessionId, agentId: passport.agentId });
    } catch (error) {
      if (error instanceof LoginExpiredError)
        return void res.status(410).json({ error: 'expired' });
      throw error;
    }
  });

  // 3. Later requests carry the session.
  app.get('/me/:sessionId', (req, res) => {
    const session = sessions.get(req.params.sessionId);
    if (!session) return void res.status(401).end();
    res.json(session);
  });
  return app;
}
