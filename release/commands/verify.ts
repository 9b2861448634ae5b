import { candidateColor } from "../../config/release-manifest";
import { testListenerUrl, type ReleaseContext } from "../context";
import { ReleaseError } from "../errors";
import { verifyDeployment } from "../verify";

/** The MCP check of the candidate through the test listener: its version and colour from the manifest. */
export async function verify(ctx: ReleaseContext): Promise<void> {
  const manifest = ctx.store.read();
  const color = candidateColor(manifest);
  const { version } = manifest.colors[color];
  const url = await testListenerUrl(ctx);
  if (ctx.dryRun) ctx.out.step("dry run: verify changes nothing, so it runs as usual");
  ctx.out.step(`verify: ${url} (expecting ${color} ${version})`);
  const result = await verifyDeployment(url, { version, color }, ctx.verifyOptions).catch((error: unknown) => {
    // The load balancer's own DNS name is not on the certificate; only a name the certificate covers verifies over HTTPS.
    if (error instanceof ReleaseError && !ctx.testUrl && url.startsWith("https:")) {
      throw new ReleaseError(`${error.message}; with HTTPS, pass --url https://<a host name on the certificate>:${ctx.config.loadBalancer.testListenerPort}/mcp`);
    }
    throw error;
  });
  ctx.out.step(`verify: passed: initialize, tools/list (${result.tools.join(", ")}), server_info x${result.samples} all ${color} ${version}`);
}
