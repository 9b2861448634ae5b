import type { IamStatement } from "./bootstrap";

/** Whether an IAM pattern matches a value as IAM compares them: `*` any run of characters, `?` one. */
export function arnMatches(pattern: string, value: string, options: { ignoreCase?: boolean } = {}): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, options.ignoreCase ? "i" : "").test(value);
}

/**
 * Whether an Allow statement among `statements` lets `action` on `resource` through, for a call made
 * in `region`. The only condition understood is aws:RequestedRegion; any other makes the statement
 * count as not matching, so a new kind of condition fails the tests instead of passing them.
 */
export function allows(statements: IamStatement[], action: string, resource: string, region: string): boolean {
  return statements.some(
    (s) =>
      (s.effect ?? "Allow") === "Allow" &&
      (s.actions ?? []).some((a) => arnMatches(a, action, { ignoreCase: true })) &&
      (s.resources ?? []).some((r) => arnMatches(r, resource)) &&
      (s.condition ?? []).every((c) => c.test === "StringEquals" && c.variable === "aws:RequestedRegion" && c.values.includes(region)),
  );
}
