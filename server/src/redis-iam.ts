import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Hash } from '@smithy/hash-node';
import { buildQueryString } from '@smithy/querystring-builder';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RedisClientOptions } from '@redis/client';

type StreamingCredentialsProvider = Extract<NonNullable<RedisClientOptions['credentialsProvider']>, { type: 'streaming-credentials-provider' }>;
type Credentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** How long ElastiCache accepts a token: 15 minutes, its maximum. */
const TOKEN_TTL_SECONDS = 900;
/** ElastiCache closes an IAM-authenticated connection after 12 hours unless it re-authenticates first. */
export const REAUTH_INTERVAL_MS = 11 * 3600_000;

export interface IamAuthOptions {
  /** The replication group id: the host the token is signed for. */
  cacheId: string;
  /** The ElastiCache user (user id = user name for IAM users). */
  userId: string;
  region: string;
  /** Where AWS credentials come from; the SDK's default chain (the ECS task role in a task). */
  credentials?: Credentials;
  /** Clock for the signature (tests). */
  now?: () => Date;
}

/**
 * ElastiCache IAM authentication: the AUTH password is a SigV4-presigned `connect` request for the
 * user, so no shared secret exists anywhere, and the task role's elasticache:Connect grant decides.
 */
export class ElastiCacheIamAuth {
  private readonly signer: SignatureV4;

  constructor(private readonly options: IamAuthOptions) {
    this.signer = new SignatureV4({
      service: 'elasticache',
      region: options.region,
      credentials: options.credentials ?? defaultProvider(),
      sha256: Hash.bind(null, 'sha256'),
    });
  }

  /** A token for one AUTH: `<cacheId>/?Action=connect&User=<user>&X-Amz-...`, as ElastiCache expects it. */
  async token(): Promise<string> {
    const { cacheId, userId } = this.options;
    const signed = await this.signer.presign(
      { method: 'GET', protocol: 'http:', hostname: cacheId, path: '/', query: { Action: 'connect', User: userId }, headers: { host: cacheId } },
      { expiresIn: TOKEN_TTL_SECONDS, ...(this.options.now ? { signingDate: this.options.now() } : {}) },
    );
    return `${cacheId}/?${buildQueryString(signed.query ?? {})}`;
  }

  /**
   * node-redis credentials: a fresh token on every (re)connect, and a re-AUTH on the open connection
   * before ElastiCache's 12-hour limit. node-redis does not dispose a connection's subscription when
   * it reconnects, so each new subscription ends the previous one here.
   */
  credentialsProvider(onError: (err: Error) => void, reauthIntervalMs = REAUTH_INTERVAL_MS): StreamingCredentialsProvider {
    let stopPrevious = () => {};
    const credentials = async () => ({ username: this.options.userId, password: await this.token() });
    return {
      type: 'streaming-credentials-provider',
      subscribe: async (listener) => {
        stopPrevious();
        const first = await credentials();
        const timer = setInterval(() => {
          credentials().then(listener.onNext, onError);
        }, reauthIntervalMs);
        timer.unref();
        stopPrevious = () => clearInterval(timer);
        return [first, { dispose: stopPrevious }];
      },
      onReAuthenticationError: onError,
    };
  }
}
