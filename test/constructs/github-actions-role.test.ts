import { Testing } from "cdktf";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { GithubActionsRole, type GithubActionsRoleProps } from "../../constructs/github-actions-role";
import { GithubOidcProvider } from "../../constructs/github-oidc-provider";

const props: GithubActionsRoleProps = {
  name: "github-test-deploy",
  oidcProviderArn: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
  repository: "acme/widgets",
  subjects: ["environment:staging"],
  policies: { read: [{ actions: ["ec2:DescribeVpcs"], resources: ["*"] }], write: [{ actions: ["ec2:CreateVpc"], resources: ["*"] }] },
};

const synth = (overrides: Partial<GithubActionsRoleProps> = {}) => Testing.synthScope((scope) => new GithubActionsRole(scope, "role", { ...props, ...overrides }));

function trustStatement(overrides: Partial<GithubActionsRoleProps> = {}) {
  const json = JSON.parse(synth(overrides));
  return Object.entries<{ statement: unknown[] }>(json.data.aws_iam_policy_document).find(([id]) => id.includes("trust"))![1].statement[0];
}

describe("GithubOidcProvider", () => {
  it("trusts GitHub's token issuer for the STS audience, with GitHub's published thumbprints", () => {
    expect(Testing.synthScope((scope) => new GithubOidcProvider(scope, "oidc"))).toHaveResourceWithProperties(IamOpenidConnectProvider, {
      url: "https://token.actions.githubusercontent.com",
      client_id_list: ["sts.amazonaws.com"],
      thumbprint_list: ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"],
    });
  });
});

describe("GithubActionsRole", () => {
  it("lets only the listed subjects of the one repository assume it, with the STS audience", () => {
    expect(trustStatement({ subjects: ["environment:staging", "ref:refs/heads/main"] })).toEqual({
      actions: ["sts:AssumeRoleWithWebIdentity"],
      principals: [{ type: "Federated", identifiers: [props.oidcProviderArn] }],
      condition: [
        { test: "StringEquals", variable: "token.actions.githubusercontent.com:aud", values: ["sts.amazonaws.com"] },
        { test: "StringEquals", variable: "token.actions.githubusercontent.com:sub", values: ["repo:acme/widgets:environment:staging", "repo:acme/widgets:ref:refs/heads/main"] },
      ],
    });
  });

  it("attaches one managed policy per group, named after the role", () => {
    const synthesized = synth();
    expect(synthesized).toHaveResourceWithProperties(IamRole, { name: "github-test-deploy", max_session_duration: 3600 });
    expect(synthesized).toHaveResourceWithProperties(IamPolicy, { name: "github-test-deploy-read" });
    expect(synthesized).toHaveResourceWithProperties(IamPolicy, { name: "github-test-deploy-write" });
    expect(Object.keys(JSON.parse(synthesized).resource[IamRolePolicyAttachment.tfResourceType])).toHaveLength(2);
  });

  it("refuses wildcard subjects, which would let any branch in", () => {
    expect(() => synth({ subjects: ["ref:refs/heads/*"] })).toThrow(/not patterns \(ref:refs\/heads\/\*\)/);
  });

  it("refuses a repository that is not owner/name", () => {
    expect(() => synth({ repository: "widgets" })).toThrow(/repository must be "owner\/name"/);
  });

  it("refuses a role with no subjects or no policies", () => {
    expect(() => synth({ subjects: [] })).toThrow(/at least one subject/);
    expect(() => synth({ policies: {} })).toThrow(/at least one policy/);
  });
});
