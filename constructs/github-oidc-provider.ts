import { Construct } from "constructs";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";

/** GitHub Actions' OIDC issuer; the `sub` and `aud` claims of its tokens are checked by each role's trust policy. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

export interface GithubOidcProviderProps {
  /**
   * Certificate thumbprints of the issuer. AWS now checks GitHub's certificate against its own
   * trusted CAs and ignores these, but the IAM API has long required them, so GitHub's two
   * published thumbprints are listed. @default GitHub's published thumbprints
   */
  readonly thumbprints?: string[];
}

/**
 * The account's IAM identity provider for GitHub Actions (an account holds one per issuer URL).
 * Its only audience is STS, which is what aws-actions/configure-aws-credentials asks for.
 */
export class GithubOidcProvider extends Construct {
  public readonly provider: IamOpenidConnectProvider;

  constructor(scope: Construct, id: string, props: GithubOidcProviderProps = {}) {
    super(scope, id);
    this.provider = new IamOpenidConnectProvider(this, "provider", {
      url: `https://${GITHUB_OIDC_HOST}`,
      clientIdList: ["sts.amazonaws.com"],
      thumbprintList: props.thumbprints ?? ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"],
    });
  }
}
