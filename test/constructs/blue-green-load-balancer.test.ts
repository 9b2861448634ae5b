import { Testing } from "cdktf";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { BlueGreenLoadBalancer, type BlueGreenLoadBalancerProps } from "../../constructs/blue-green-load-balancer";

const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
const props: BlueGreenLoadBalancerProps = {
  name: "mcp-test",
  region: "eu-west-1",
  vpcId: "vpc-1",
  vpcCidr: "10.0.0.0/16",
  publicSubnetIds: ["subnet-a", "subnet-b"],
  weights: { blue: 90, green: 10 },
  testColor: "green",
  testListenerCidrs: ["203.0.113.0/24"],
  certificateArn: CERT,
};

const synth = (overrides: Partial<BlueGreenLoadBalancerProps> = {}) =>
  Testing.synthScope((scope) => new BlueGreenLoadBalancer(scope, "lb", { ...props, ...overrides }));

const resources = (synthesized: string, type: string) => Object.values(JSON.parse(synthesized).resource[type]) as Record<string, unknown>[];

type Listener = { port: number; protocol: string; ssl_policy?: string; default_action: { type: string; forward?: { target_group: { arn: string; weight: number }[] }; redirect?: object }[] };
function listeners(synthesized: string): Record<number, Listener> {
  const all = Object.values(JSON.parse(synthesized).resource[LbListener.tfResourceType]) as Listener[];
  return Object.fromEntries(all.map((l) => [l.port, l]));
}
const weightsOf = (listener: Listener) =>
  Object.fromEntries(listener.default_action[0].forward!.target_group.map((t) => [/tg-(blue|green)/.exec(t.arn)![1], t.weight]));

describe("BlueGreenLoadBalancer", () => {
  it("splits production traffic between the colours by the manifest's weights", () => {
    expect(weightsOf(listeners(synth())[443])).toEqual({ blue: 90, green: 10 });
  });

  it("sends everything on the test listener to the colour under test", () => {
    expect(weightsOf(listeners(synth())[8443])).toEqual({ blue: 0, green: 100 });
    expect(weightsOf(listeners(synth({ testColor: "blue", testListenerPort: 9443 }))[9443])).toEqual({ blue: 100, green: 0 });
  });

  it("serves HTTPS with a TLS 1.3 policy and redirects HTTP to it", () => {
    const all = listeners(synth());
    expect(all[443]).toMatchObject({ protocol: "HTTPS", ssl_policy: "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" });
    expect(all[8443]).toMatchObject({ protocol: "HTTPS" });
    expect(all[80].default_action[0]).toMatchObject({ type: "redirect", redirect: { protocol: "HTTPS", port: "443", status_code: "HTTP_301" } });
  });

  it("runs plain HTTP when no certificate is given", () => {
    const all = listeners(synth({ certificateArn: undefined }));
    expect(Object.keys(all).sort()).toEqual(["80", "8443"]);
    expect(all[80].protocol).toBe("HTTP");
    expect(weightsOf(all[80])).toEqual({ blue: 90, green: 10 });
  });

  it("drops invalid headers, logs access, protects against deletion and suits streamed responses", () => {
    const synthesized = synth();
    expect(resources(synthesized, Lb.tfResourceType)[0]).toMatchObject({
      drop_invalid_header_fields: true,
      enable_deletion_protection: true,
      idle_timeout: 60,
      internal: false,
      access_logs: { enabled: true, prefix: "alb" },
    });
    expect(resources(synthesized, S3BucketLifecycleConfiguration.tfResourceType)[0]).toMatchObject({ rule: [{ status: "Enabled", expiration: [{ days: 90 }] }] });
    expect(synth({ deletionProtection: false })).toHaveResourceWithProperties(Lb, { enable_deletion_protection: false });
  });

  it("health-checks each colour's ip targets on /health/ready and drains them within 60 s by default", () => {
    const groups = resources(synth({ healthCheck: { healthyThreshold: 3 } }), LbTargetGroup.tfResourceType);
    for (const [i, color] of ["blue", "green"].entries()) {
      expect(groups[i]).toMatchObject({
        name: `mcp-test-${color}`,
        target_type: "ip",
        port: 8080,
        deregistration_delay: "30",
        health_check: { path: "/health/ready", matcher: "200", healthy_threshold: 3, unhealthy_threshold: 3 },
      });
    }
  });

  it.each([
    ["weights that do not sum to 100", { weights: { blue: 50, green: 40 } }, /summing to 100/],
    ["a test listener open to the internet", { testListenerCidrs: ["0.0.0.0/0"] }, /never the whole internet/],
    ["a name too long for target groups", { name: "an-environment-name-far-too-long" }, /longer than 26/],
  ])("refuses %s", (_what, overrides, message) => {
    expect(() => synth(overrides as Partial<BlueGreenLoadBalancerProps>)).toThrow(message);
  });
});
