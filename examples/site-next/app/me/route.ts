import type { NextRequest } from 'next/server';
import { SESSION_COOKIE, sessionOf } from '../../lib/lime';

/** The agent this session belongs to; 401 without a session. */
export function GET(request: NextRequest): Response {
  const session = sessionOf(request.cookies.get(SESSION_COOKIE)?.value);
  if (!session) {
    return Response.json(
      { error: 'NOT_LOGGED_IN', message: 'log in first: POST /login/start, then /login/finish' },
      { status: 401 },
    );
  }
  return Response.json(session);
}
