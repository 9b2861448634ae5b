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
      watch("engine-cpu", "EngineCPUUtilization", "Average", props.engineCpuPercent ?? 80, "the Redis engine thread is busy; commands queue up", "breaching");
      watch("cpu", "CPUUtilization", "Average", props.cpuPercent ?? 90, "the host CPU is saturated (snapshots, TLS, many connections)", "notBreaching");
      watch("memory", "DatabaseMemoryUsagePercentage", "Maximum", props.memoryPercent ?? 80, "memory is near maxmemory; evictions follow", "notBreaching");
      watch("evictions", "Evictions", "Sum", props.evictions ?? 1000, "keys are evicted before their TTL; the cache is too small", "notBreaching");
      watch("connections", "CurrConnections", "Maximum", props.connections ?? 5000, "unusually many client connections (a connection leak or a task storm)", "notBreaching");
      // The initial primary reports no lag; replicas do. After a failover the roles swap, so all replicas are watched.
      if (index > 0) watch("replication-lag", "ReplicationLag", "Maximum", props.replicationLagSeconds ?? 10, "the replica lags the primary; a failover would lose writes", "notBreaching");
    });
  }
}
