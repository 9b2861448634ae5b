import { ALARM_EVALUATION_DEFAULTS, withDefaults } from "../config/defaults";
import type { Construct } from "constructs";
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";

/** How every alarm of an environment evaluates and whom it tells. */
export interface AlarmDefaults {
  /** Topic told when an alarm fires and when it recovers. Required. */
  readonly topicArn: string;
  /** Seconds per datapoint. @default 60 */
  readonly periodSeconds?: number;
  /** Datapoints an alarm looks at. @default 5 */
  readonly evaluationPeriods?: number;
  /** Of those, how many must breach. @default 3 */
  readonly datapointsToAlarm?: number;
}

type AlarmSpec = Omit<CloudwatchMetricAlarmConfig, "evaluationPeriods" | "alarmActions" | "okActions"> & {
  /** Overrides the environment's window where an alarm must react faster. */
  evaluationPeriods?: number;
  /** Why missing data is neither good nor bad is a per-alarm decision; make it explicitly. */
  treatMissingData: "breaching" | "notBreaching" | "ignore" | "missing";
  alarmDescription: string;
};

/** A metric alarm with the environment's evaluation window and the topic as alarm and OK action. */
export function metricAlarm(scope: Construct, id: string, defaults: AlarmDefaults, spec: AlarmSpec): CloudwatchMetricAlarm {
  const evaluation = withDefaults(ALARM_EVALUATION_DEFAULTS, defaults);
  const period = evaluation.periodSeconds;
  return new CloudwatchMetricAlarm(scope, id, {
    evaluationPeriods: evaluation.evaluationPeriods,
    datapointsToAlarm: evaluation.datapointsToAlarm,
    ...(spec.metricQuery ? {} : { period }),
    ...spec,
    alarmActions: [defaults.topicArn],
    okActions: [defaults.topicArn],
  });
}
