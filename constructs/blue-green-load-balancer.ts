import { LOAD_BALANCER_DEFAULTS, SERVICE_DEFAULTS, TARGET_HEALTH_CHECK_DEFAULTS, withDefaults } from "../config/defaults";
import { Construct } from "constructs";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener, type LbListenerDefaultAction } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { COLORS, type Color } from "../config/release-manifest";
import { productionListenerPort, resourceNames } from "../config/names";
import { AccessLogBucket } from "./access-log-bucket";

export interface TargetHealthCheck {
  /** Path the load balancer probes. @default "/health/ready" */
  readonly path?: string;
  /** Seconds between probes. @default 10 */
  readonly intervalSeconds?: number;
  /** Seconds before a probe counts as failed. @default 5 */
  readonly timeoutSeconds?: number;
  /** Passing probes before a target takes traffic. @default 2 */
  readonly healthyThreshold?: number;
  /** Failing probes before a target stops taking traffic. @default 3 */
  readonly unhealthyThreshold?: number;
}

export interface BlueGreenLoadBalancerProps {
  /** Prefix of every resource name (at most 26 characters: target group names are limited to 32). Required. */
  readonly name: string;
  /** Region, to authorise its log-delivery account on the access log bucket. Required. */
  readonly region: string;
  /** VPC of the targets. Required. */
  readonly vpcId: string;
  /** IPv4 range of the VPC; the load balancer may reach targets only inside it. Required. */
  readonly vpcCidr: string;
  /** Subnets of the load balancer, in two or more availability zones: public ones, or private ones when `internal`. Required. */
  readonly publicSubnetIds: string[];
  /** Percentage of production traffic per colour, summing to 100 (from the release manifest). Required. */
  readonly weights: Record<Color, number>;
  /** Colour the test listener reaches: the one a new version is checked on. Required. */
  readonly testColor: Color;
  /** CIDRs of people allowed to reach the test listener (a VPN, an office). Required, may be empty; never 0.0.0.0/0. */
  readonly testListenerCidrs: string[];
  /** CIDRs in-VPC verification reaches the test listener from: the NAT gateways' public IPs (/32), or the VPC's CIDR when internal. @default none */
  readonly verifierCidrs?: string[];
  /** An internal load balancer, in private subnets, reachable only from inside the network (clientCidrs). @default false: internet-facing */
  readonly internal?: boolean;
  /** Who may reach the production listener. @default ["0.0.0.0/0"], or the VPC's CIDR when internal */
  readonly clientCidrs?: string[];
  /** ACM certificate; without one the listeners speak plain HTTP (allowed outside production only). @default no HTTPS */
  readonly certificateArn?: string;
  /** DNS name clients use (on the certificate), for the test listener URL. @default the load balancer's DNS name */
  readonly hostName?: string;
  /** TLS policy of the HTTPS listeners. @default "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" (TLS 1.3, and 1.2 with forward-secret AEAD ciphers only) */
  readonly sslPolicy?: string;
  /** Port of the test listener. @default 8443 */
  readonly testListenerPort?: number;
  /** Port the targets serve on. @default 8080 */
  readonly targetPort?: number;
  /** Seconds an idle connection stays open; below the server's 65 s keep-alive, long enough for streamed responses. @default 60 */
  readonly idleTimeoutSeconds?: number;
  /** Seconds a deregistering target may finish in-flight requests; keep below the task's stop timeout. @default 30 */
  readonly deregistrationDelaySeconds?: number;
  /** Target group health check. @default see TargetHealthCheck */
  readonly healthCheck?: TargetHealthCheck;
  /** Refuse `terraform destroy` of the load balancer. @default true */
  readonly deletionProtection?: boolean;
  /** Days to keep access logs. @default 90 */
  readonly accessLogRetentionDays?: number;
}

/**
 * A public ALB with one target group per colour. The production listener splits traffic between
 * blue and green by weight; a test listener open only to given CIDRs sends everything to the
 * colour under test, so a new version is checked before it takes production traffic.
 */
export class BlueGreenLoadBalancer extends Construct {
  public readonly loadBalancer: Lb;
  public readonly securityGroup: SecurityGroup;
  public readonly targetGroups: Record<Color, LbTargetGroup>;
  public readonly productionListener: LbListener;
  public readonly testListener: LbListener;
  /** URL of the test listener. */
  public readonly testUrl: string;
  /** Public URL of the production listener, by the name clients use (the MCP resource is `${productionUrl}/mcp`). */
  public readonly productionUrl: string;

  constructor(scope: Construct, id: string, props: BlueGreenLoadBalancerProps) {
    super(scope, id);
    const { name, weights } = props;
    if (name.length > 26) throw new Error(`BlueGreenLoadBalancer ${id}: name "${name}" is longer than 26 characters; target group names would pass AWS's 32`);
    if (weights.blue + weights.green !== 100 || COLORS.some((c) => !Number.isInteger(weights[c]) || weights[c] < 0)) {
      throw new Error(`BlueGreenLoadBalancer ${id}: weights must be whole percentages summing to 100, got blue=${weights.blue} green=${weights.green}`);
    }
    const testers = [...props.testListenerCidrs, ...(props.verifierCidrs ?? [])];
    if (testers.length === 0 || testers.some((c) => c.endsWith("/0"))) {
      throw new Error(`BlueGreenLoadBalancer ${id}: testListenerCidrs and verifierCidrs must admit someone to the test listener, and never the whole internet`);
    }
    const o = withDefaults({ ...LOAD_BALANCER_DEFAULTS, targetPort: SERVICE_DEFAULTS.containerPort }, props);
    const targetPort = o.targetPort;
    const testPort = o.testListenerPort;
    const https = props.certificateArn !== undefined;
    const deletionProtection = o.deletionProtection;

    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${name}-alb`,
      description: "Public HTTP(S); the test listener only from allowed CIDRs",
      vpcId: props.vpcId,
      tags: { Name: `${name}-alb` },
    });
    const clients = props.clientCidrs ?? (props.internal ? [props.vpcCidr] : ["0.0.0.0/0"]);
    const ingress = [
      ...[80, ...(https ? [443] : [])].flatMap((port) => clients.map((cidr, i) => ({ id: cidr === "0.0.0.0/0" ? `public-${port}` : `clients-${port}-${i}`, port, cidr }))),
      ...props.testListenerCidrs.map((cidr, i) => ({ id: `test-${i}`, port: testPort, cidr })),
      ...(props.verifierCidrs ?? []).map((cidr, i) => ({ id: `verify-${i}`, port: testPort, cidr })),
    ];
    for (const rule of ingress) {
      new VpcSecurityGroupIngressRule(this, `ingress-${rule.id}`, {
        securityGroupId: this.securityGroup.id,
        description: rule.id.startsWith("verify-") ? "Test listener: in-VPC verify" : rule.port === testPort ? "Test listener" : rule.cidr === "0.0.0.0/0" ? `Public ${rule.port}` : `Clients ${rule.port}`,
        ipProtocol: "tcp",
        fromPort: rule.port,
        toPort: rule.port,
        cidrIpv4: rule.cidr,
      });
    }
    new VpcSecurityGroupEgressRule(this, "egress-targets", {
      securityGroupId: this.securityGroup.id,
      description: "To targets in the VPC",
      ipProtocol: "tcp",
      fromPort: targetPort,
      toPort: targetPort,
      cidrIpv4: props.vpcCidr,
    });

    const logs = new AccessLogBucket(this, "access-logs", {
      name: `${name}-alb`,
      region: props.region,
      retentionDays: o.accessLogRetentionDays,
      forceDestroy: !deletionProtection,
    });
    this.loadBalancer = new Lb(this, "alb", {
      name: resourceNames.loadBalancer(name),
      loadBalancerType: "application",
      internal: props.internal ?? false,
      subnets: props.publicSubnetIds,
      securityGroups: [this.securityGroup.id],
      idleTimeout: o.idleTimeoutSeconds,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      enableDeletionProtection: deletionProtection,
      accessLogs: { bucket: logs.bucket.bucket, prefix: logs.prefix, enabled: true },
      // The bucket policy must exist before the ALB validates that it may write there.
      dependsOn: [logs.policy],
    });

    const check = withDefaults(TARGET_HEALTH_CHECK_DEFAULTS, props.healthCheck ?? {});
    const makeTargetGroup = (color: Color) =>
      new LbTargetGroup(this, `tg-${color}`, {
        name: resourceNames.targetGroup(name, color),
        port: targetPort,
        protocol: "HTTP",
        targetType: "ip",
        vpcId: props.vpcId,
        deregistrationDelay: String(o.deregistrationDelaySeconds),
        // Streamed MCP responses vary widely in length; send new requests to the least busy task.
        loadBalancingAlgorithmType: "least_outstanding_requests",
        healthCheck: {
          path: check.path,
          matcher: "200",
          interval: check.intervalSeconds,
          timeout: check.timeoutSeconds,
          healthyThreshold: check.healthyThreshold,
          unhealthyThreshold: check.unhealthyThreshold,
        },
        tags: { Name: `${name}-${color}`, Color: color },
      });
    this.targetGroups = { blue: makeTargetGroup("blue"), green: makeTargetGroup("green") };

    const forward = (split: Record<Color, number>): LbListenerDefaultAction => ({
      type: "forward",
      forward: { targetGroup: COLORS.map((c) => ({ arn: this.targetGroups[c].arn, weight: split[c] })) },
    });
    const tls = https ? { protocol: "HTTPS", certificateArn: props.certificateArn, sslPolicy: o.sslPolicy } : { protocol: "HTTP" };

    this.productionListener = new LbListener(this, https ? "https" : "http", {
      loadBalancerArn: this.loadBalancer.arn,
      port: productionListenerPort(https),
      ...tls,
      defaultAction: [forward(weights)],
    });
    if (https) {
      new LbListener(this, "http-redirect", {
        loadBalancerArn: this.loadBalancer.arn,
        port: 80,
        protocol: "HTTP",
        defaultAction: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      });
    }
    const onlyTestColor = { blue: 0, green: 0, [props.testColor]: 100 } as Record<Color, number>;
    this.testListener = new LbListener(this, "test", {
      loadBalancerArn: this.loadBalancer.arn,
      port: testPort,
      ...tls,
      defaultAction: [forward(onlyTestColor)],
    });
    const origin = `${https ? "https" : "http"}://${props.hostName ?? this.loadBalancer.dnsName}`;
    this.productionUrl = origin;
    this.testUrl = `${origin}:${testPort}`;
  }
}
