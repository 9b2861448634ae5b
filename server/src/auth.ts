import { OAuthError, OAuthErrorCode, type AuthInfo, type OAuthTokenVerifier } from '@modelcontextprotocol/server';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { Config } from './config.js';

/** Verifies bearer JWTs against the issuer's JWKS (cached and refreshed by jose), checking issuer, audience and expiry. */
export function createJwtVerifier(config: Config): OAuthTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(config.JWKS_URL!), { timeoutDuration: 3000, cooldownDuration: 30_000 });
  // Verified tokens are remembered (bounded, and never past their expiry): clients reuse one token
  // for many requests, and an RSA/EC verification per request would cost more than the request.
  const verified = new Map<string, AuthInfo>();
  const MAX_CACHED = 10_000;
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      const hit = verified.get(token);
      if (hit && hit.expiresAt! * 1000 > Date.now()) return hit;
      if (hit) verified.delete(token);
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer: config.JWT_ISSUER!,
          audience: config.JWT_AUDIENCE!,
          requiredClaims: ['exp'],
          clockTolerance: 5,
        });
        const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
        const info: AuthInfo = {
          token,
          clientId: str(payload.client_id) ?? str(payload.azp) ?? str(payload.sub) ?? 'unknown',
          scopes: (str(payload.scope) ?? '').split(' ').filter(Boolean),
          expiresAt: payload.exp!,
          extra: { sub: payload.sub },
        };
        if (verified.size >= MAX_CACHED) verified.delete(verified.keys().next().value!);
        verified.set(token, info);
        return info;
      } catch (err) {
        // A JWKS we cannot fetch is our outage, not a bad token: answer 500 rather than make clients re-authenticate.
        if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError) || err.code === 'ERR_JWKS_INVALID') {
          throw new OAuthError(OAuthErrorCode.ServerError, 'token verification is temporarily unavailable');
        }
        throw new OAuthError(OAuthErrorCode.InvalidToken, `invalid token: ${err.message}`);
      }
    },
  };
}
