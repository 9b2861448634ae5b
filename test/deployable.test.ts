import { exampleValues, refuseExampleValues, ExampleValuesError } from "../config/deployable";
import { loadEnvironment } from "../config/load";
import type { ReleaseManifest } from "../config/release-manifest";
import type { EnvironmentConfig } from "../config/schema";

/** The example environment with each example value replaced, as an operator would before a first deploy. */
function realistic(name: "staging" | "production"): { config: EnvironmentConfig; release: ReleaseManifest } {
  const { config, release } = loadEnvironment(name);
  const account = "493817265530";
  const image = `${account}.dkr.ecr.${config.aws.region}.amazonaws.com/mcp-server@sha256:${"ab".repeat(32)}`;
  return {
    config: {
      ...config,
      aws: { ...config.aws, accountId: account },
      loadBalancer: {
        ...config.loadBalancer,
        testListenerCidrs: ["10.8.0.0/16"],
        certificateArn: config.loadBalancer.certificateArn?.replace(/\d{12}/, account),
        hostName: config.loadBalancer.hostName ? "mcp.acme-corp.io" : undefined,
      },
      alarms: { ...config.alarms, emails: ["oncall@acme-corp.io"] },
      auth: config.auth && { ...config.auth, issuer: "https://acme-corp.eu.auth0.com/", jwksUrl: "https://acme-corp.eu.auth0.com/.well-known/jwks.json" },
    },
    release: { ...release, colors: { blue: { ...release.colors.blue, image }, green: { ...release.colors.green, image } } },
  };
}

describe("refusing to apply example values", () => {
  it.each(["staging", "production"] as const)("refuses the %s example, naming each field", (name) => {
    const { config, release } = loadEnvironment(name);
    const lines = exampleValues(config, release).flatMap((f) => f.problems);
    expect(lines.some((l) => l.startsWith("aws.accountId:"))).toBe(true);
    expect(lines.some((l) => l.startsWith("alarms: no subscriber"))).toBe(true);
    expect(lines.some((l) => l.startsWith("colors.blue.image:"))).toBe(true);
    expect(() => refuseExampleValues(config, release)).toThrow(ExampleValuesError);
  });

  it("names production's documentation range, example certificate and example issuer", () => {
    const { config, release } = loadEnvironment("production");
    const lines = exampleValues(config, release).flatMap((f) => f.problems);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^loadBalancer\.testListenerCidrs\[0\]: 203\.0\.113\.0\/24 is a documentation range/),
        expect.stringMatching(/^loadBalancer\.certificateArn: /),
        expect.stringMatching(/^auth\.issuer: https:\/\/login\.example\.com\/ is on a documentation domain/),
        expect.stringMatching(/^auth\.jwksUrl: /),
      ]),
    );
  });

  it.each(["staging", "production"] as const)("lets a real %s config through", (name) => {
    const { config, release } = realistic(name);
    expect(exampleValues(config, release)).toEqual([]);
    expect(() => refuseExampleValues(config, release)).not.toThrow();
  });

  it.each([["192.0.2.0/28"], ["198.51.100.7/32"], ["2001:db8:1::/48"]])("knows %s as a documentation range", (cidr) => {
    const { config, release } = realistic("staging");
    const lines = exampleValues({ ...config, loadBalancer: { ...config.loadBalancer, testListenerCidrs: [cidr] } }, release).flatMap((f) => f.problems);
    expect(lines).toEqual([expect.stringContaining(`loadBalancer.testListenerCidrs[0]: ${cidr} is a documentation range`)]);
  });
});
