import { COLORS, type Color } from "../../config/release-manifest";
import type { ReleaseContext } from "../context";
import type { ColorObservation } from "../state-machine";

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
