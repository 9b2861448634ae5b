import { Construct } from "constructs";
import type { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { resourceNames } from "../config/names";
import { serviceRole } from "./iam";

export interface VerifierRoleProps {
  /** Prefix of the environment's resource names (`mcp-<env>`); names the role. Required. */
  readonly name: string;
  /** Secrets Manager secret holding the OAuth client secret of the verifier's client. Required. */
  readonly clientSecretArn: string;
  /** Permissions boundary of the role. @default none */
  readonly permissionsBoundaryArn?: string;
}

/**
 * The task role of the release's one-off verify task, and the only role that may read the
 * verifier's OAuth client secret: the colours' own task roles, which serve traffic, never can. The
 * release CLI passes it in RunTask's overrides; the task then takes a token by the client-credentials grant.
 */
export class VerifierRole extends Construct {
  public readonly role: IamRole;

  constructor(scope: Construct, id: string, props: VerifierRoleProps) {
    super(scope, id);
    this.role = serviceRole(this, "role", {
      name: resourceNames.verifierRole(props.name),
      service: "ecs-tasks.amazonaws.com",
      permissionsBoundary: props.permissionsBoundaryArn,
      statements: [{ sid: "ReadVerifierClientSecret", actions: ["secretsmanager:GetSecretValue"], resources: [props.clientSecretArn] }],
    });
  }
}
