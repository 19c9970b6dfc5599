import { describe, expect, it } from 'vitest';
import type { McpTokenClaims, PassportClaims } from '../src/claims.js';
import { createJwtVerifier, JwksCache } from '../src/index.js';

describe('claim type parameters', () => {
  it('accepts the wire claim interfaces (no index signature needed)', () => {
    const keys = new JwksCache({ jwksUrl: 'https://core.test/jwks' });
    const passport = createJwtVerifier<PassportClaims>({
      keys,
      audience: 'lime-site-login',
      maxLifetimeSeconds: 120,
    });
    const mcp = createJwtVerifier<McpTokenClaims>({
      keys,
      audience: 'mcp',
      maxLifetimeSeconds: 300,
    });
    expect(typeof passport).toBe('function');
    expect(typeof mcp).toBe('function');
  });
});
