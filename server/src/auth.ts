import { OAuthError, OAuthErrorCode, type AuthInfo, type OAuthTokenVerifier } from '@modelcontextprotocol/server';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwksCache, jwtVerify, type ExportedJWKSCache, type JWTVerifyGetKey } from 'jose';
import type { Config } from './config.js';

/** The issuer's keys could not be fetched (timeout, 5xx, a redirect, not a JWKS, unreachable). */
class JwksUnavailable extends Error {}

/**
 * The issuer's JWKS, cached and refreshed by jose every JWKS_CACHE_SECONDS. When a refresh fails,
 * the keys of the last successful fetch keep verifying tokens for up to JWKS_MAX_STALE_SECONDS
 * after it, so an outage of the issuer does not reject every new token; past that, or with no keys
 * yet, the outage is a JwksUnavailable. A token whose key is not in the set is still the token's fault.
 */
function lastKnownKeys(config: Config): JWTVerifyGetKey {
  const cache = {} as ExportedJWKSCache; // jose writes the keys and the time of each successful fetch here
  const remote = createRemoteJWKSet(new URL(config.JWKS_URL!), {
    timeoutDuration: 3000,
    cooldownDuration: 30_000,
    cacheMaxAge: config.JWKS_CACHE_SECONDS * 1000,
    [jwksCache]: cache,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      if (cache.jwks && Date.now() - cache.uat <= config.JWKS_MAX_STALE_SECONDS * 1000) return createLocalJWKSet(cache.jwks)(header, token);
      throw new JwksUnavailable((err as Error).message);
    }
  };
}

/** A token's scopes: OAuth's space-separated `scope`, or `scp` (Entra ID and Okta), a string or a list. */
function scopesOf(payload: Record<string, unknown>): string[] {
  const claim = payload.scope ?? payload.scp;
  if (Array.isArray(claim)) return claim.filter((s): s is string => typeof s === 'string');
  return typeof claim === 'string' ? claim.split(' ').filter(Boolean) : [];
}

/** Verifies bearer JWTs against the issuer's JWKS (cached and refreshed by jose), checking issuer, audience and expiry. */
export function createJwtVerifier(config: Config): OAuthTokenVerifier {
  const jwks = lastKnownKeys(config);
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
          scopes: scopesOf(payload),
          expiresAt: payload.exp!,
          extra: { sub: payload.sub },
        };
        if (verified.size >= MAX_CACHED) verified.delete(verified.keys().next().value!);
        verified.set(token, info);
        return info;
      } catch (err) {
        // A JWKS we cannot fetch is our outage, not a bad token: answer 500 rather than make clients re-authenticate.
        if (err instanceof JwksUnavailable || !(err instanceof errors.JOSEError)) {
          throw new OAuthError(OAuthErrorCode.ServerError, 'token verification is temporarily unavailable');
        }
        throw new OAuthError(OAuthErrorCode.InvalidToken, `invalid token: ${err.message}`);
      }
    },
  };
}
