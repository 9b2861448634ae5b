import { BlockList, isIPv4 } from "node:net";
import { ConfigError, environmentFile, releaseFile } from "./load";
import type { ReleaseManifest } from "./release-manifest";
import type { EnvironmentConfig } from "./schema";

/** Account ids that only appear in examples: all one digit (000000000000, 111111111111, ...) or AWS's documentation id. */
const EXAMPLE_ACCOUNT = /^(\d)\1{11}$|^123456789012$/;
/** Host names reserved for documentation (RFC 2606). */
const EXAMPLE_HOST = /(^|\.)example\.(com|net|org)$|\.(example|test|invalid)$/;

/** Address ranges reserved for documentation: RFC 5737 (IPv4) and RFC 3849 (IPv6). */
const DOCUMENTATION_RANGES = new BlockList();
DOCUMENTATION_RANGES.addSubnet("192.0.2.0", 24, "ipv4");
DOCUMENTATION_RANGES.addSubnet("198.51.100.0", 24, "ipv4");
DOCUMENTATION_RANGES.addSubnet("203.0.113.0", 24, "ipv4");
DOCUMENTATION_RANGES.addSubnet("2001:db8::", 32, "ipv6");

function isDocumentationRange(cidr: string): boolean {
  const address = cidr.split("/")[0];
  return DOCUMENTATION_RANGES.check(address, isIPv4(address) ? "ipv4" : "ipv6");
}

function accountIn(value: string): string | undefined {
  return /arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(value)?.[1] ?? /^(\d{12})\.dkr\.ecr\./.exec(value)?.[1];
}

/**
 * Values in an environment's config and release manifest that only look real: example account ids,
 * documentation address ranges and host names, and alarms nobody receives. `synth` and the tests
 * work with them; applying them to AWS is refused (see refuseExampleValues).
 */
export function exampleValues(config: EnvironmentConfig, release: ReleaseManifest): { file: string; problems: string[] }[] {
  const fix = "replace the example with your own value before deploying";
  const inConfig: string[] = [];
  if (EXAMPLE_ACCOUNT.test(config.aws.accountId)) inConfig.push(`aws.accountId: ${config.aws.accountId} is an example account id; ${fix}`);
  config.loadBalancer.testListenerCidrs.forEach((cidr, i) => {
    if (isDocumentationRange(cidr)) inConfig.push(`loadBalancer.testListenerCidrs[${i}]: ${cidr} is a documentation range (RFC 5737/3849) that no client has; list your CI or VPN ranges`);
  });
  const certificate = config.loadBalancer.certificateArn;
  const certificateAccount = certificate ? accountIn(certificate) : undefined;
  if (certificateAccount && EXAMPLE_ACCOUNT.test(certificateAccount)) inConfig.push(`loadBalancer.certificateArn: ${certificate} names the example account ${certificateAccount}; ${fix}`);
  if (config.loadBalancer.hostName && EXAMPLE_HOST.test(config.loadBalancer.hostName)) inConfig.push(`loadBalancer.hostName: ${config.loadBalancer.hostName} is a documentation domain (RFC 2606); ${fix}`);
  for (const field of ["issuer", "jwksUrl"] as const) {
    const url = config.auth?.[field];
    if (url && EXAMPLE_HOST.test(new URL(url).hostname)) inConfig.push(`auth.${field}: ${url} is on a documentation domain (RFC 2606); set your issuer's URL`);
  }
  if (config.alarms.emails.length === 0 && config.alarms.httpsEndpoints.length === 0) {
    inConfig.push("alarms: no subscriber, so every alarm would go unread; add alarms.emails or alarms.httpsEndpoints");
  }
  const inRelease: string[] = [];
  for (const [color, { image }] of Object.entries(release.colors)) {
    const account = accountIn(image);
    if (account && EXAMPLE_ACCOUNT.test(account)) inRelease.push(`colors.${color}.image: ${image} is in the example account ${account}; push the server image and record its digest`);
  }
  return [
    ...(inConfig.length ? [{ file: environmentFile(config.name), problems: inConfig }] : []),
    ...(inRelease.length ? [{ file: releaseFile(config.name), problems: inRelease }] : []),
  ];
}

/** Example values are fine to synthesize, never to apply: the error names each one and where it is. */
export class ExampleValuesError extends ConfigError {
  constructor(environment: string, found: readonly { file: string; problems: string[] }[]) {
    const problems = found.flatMap((f) => f.problems.map((p) => `${f.file}: ${p}`));
    super(environment, problems);
    this.message = `${environment} still holds example values, so nothing was applied:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
  }
}

/** Throws an ExampleValuesError before anything is applied to an environment with example values. */
export function refuseExampleValues(config: EnvironmentConfig, release: ReleaseManifest): void {
  const found = exampleValues(config, release);
  if (found.length > 0) throw new ExampleValuesError(config.name, found);
}
