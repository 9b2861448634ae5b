import { REDIS_ALARM_DEFAULTS, withDefaults } from "../config/defaults";
import { Construct } from "constructs";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { metricAlarm, type AlarmDefaults } from "./alarm";

export interface RedisAlarmsProps extends AlarmDefaults {
  /** Prefix of alarm names. Required. */
  readonly name: string;
  /** Member cluster ids of the replication group; the first is the initial primary. Required. */
  readonly memberClusterIds: string[];
  /** Engine thread CPU (%). @default 80 */
  readonly engineCpuPercent?: number;
  /** Host CPU (%). @default 90 */
  readonly cpuPercent?: number;
  /** Memory used of maxmemory (%). @default 80 */
  readonly memoryPercent?: number;
  /** Keys evicted per period. @default 1000 */
  readonly evictions?: number;
  /** Replica lag in seconds. @default 10 */
  readonly replicationLagSeconds?: number;
  /** Client connections per node. @default 5000 */
  readonly connections?: number;
}

/** Per-node alarms on the cache. A failing cache slows the server (it answers uncached) but does not stop it. */
export class RedisAlarms extends Construct {
  public readonly alarms: CloudwatchMetricAlarm[] = [];

  constructor(scope: Construct, id: string, props: RedisAlarmsProps) {
    super(scope, id);
    const o = withDefaults(REDIS_ALARM_DEFAULTS, props);
    props.memberClusterIds.forEach((node, index) => {
      const watch = (key: string, metricName: string, statistic: string, threshold: number, description: string, missing: "breaching" | "notBreaching") =>
        this.alarms.push(
          metricAlarm(this, `${node}-${key}`, props, {
            alarmName: `${node}-${key}`,
            alarmDescription: `${node}: ${description}`,
            namespace: "AWS/ElastiCache",
            metricName,
            dimensions: { CacheClusterId: node },
            statistic,
            comparisonOperator: "GreaterThanThreshold",
            threshold,
            treatMissingData: missing,
          }),
        );
      // A node that stops reporting its engine CPU has stopped: treat the silence as an alarm.
      watch("engine-cpu", "EngineCPUUtilization", "Average", o.engineCpuPercent, "the Redis engine thread is busy; commands queue up", "breaching");
      watch("cpu", "CPUUtilization", "Average", o.cpuPercent, "the host CPU is saturated (snapshots, TLS, many connections)", "notBreaching");
      watch("memory", "DatabaseMemoryUsagePercentage", "Maximum", o.memoryPercent, "memory is near maxmemory; evictions follow", "notBreaching");
      watch("evictions", "Evictions", "Sum", o.evictions, "keys are evicted before their TTL; the cache is too small", "notBreaching");
      watch("connections", "CurrConnections", "Maximum", o.connections, "unusually many client connections (a connection leak or a task storm)", "notBreaching");
      // The initial primary reports no lag; replicas do. After a failover the roles swap, so all replicas are watched.
      if (index > 0) watch("replication-lag", "ReplicationLag", "Maximum", o.replicationLagSeconds, "the replica lags the primary; a failover would lose writes", "notBreaching");
    });
  }
}
