import { productionListenerPort } from "../../config/names";
import { COLORS, type Color } from "../../config/release-manifest";
import type { ReleaseContext } from "../context";
import { AwsError } from "../errors";
import type { ColorObservation } from "../state-machine";

/** The port of the environment's production listener. */
export const productionPortOf = (ctx: ReleaseContext) => productionListenerPort(ctx.config.loadBalancer.certificateArn !== undefined);

/**
 * A read of AWS that a dry run may go without, so that it still shows the manifest change: when
 * AWS cannot be reached in a dry run, says what goes unchecked (`without`) and yields undefined.
 */
export async function unlessDryRunWithoutAws<T>(ctx: ReleaseContext, without: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (!(ctx.dryRun && error instanceof AwsError)) throw error;
    ctx.out.step(`dry run without AWS (${error.message}): ${without}`);
    return undefined;
  }
}

/** Both colours as AWS reports them now. */
export async function observeBoth(ctx: ReleaseContext): Promise<Record<Color, ColorObservation>> {
  const [blue, green] = await Promise.all(COLORS.map((color) => ctx.aws.observe(color)));
  return { blue, green };
}

/** One line about a colour: tasks, targets, alarm. */
export function describeColor(color: Color, seen: ColorObservation): string {
  const t = seen.targets;
  const targets = [`${t.healthy} healthy`, t.starting ? `${t.starting} starting` : "", t.unhealthy ? `${t.unhealthy} unhealthy` : "", t.draining ? `${t.draining} draining` : ""]
    .filter(Boolean)
    .join(", ");
  return `${color}: tasks ${seen.runningTasks}/${seen.desiredTasks} running, targets ${targets}, alarm ${seen.alarm}`;
}
