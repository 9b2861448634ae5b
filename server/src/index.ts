import { ConfigError, loadConfig, type Config } from './config.js';

async function start(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line naming the variable, no stack: this lands in the task's stopped reason and logs.
      process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: err.message, variable: err.variable })}\n`);
      process.exit(1);
    }
    throw err;
  }
  // Tracing must patch http, undici and redis before anything loads them; when it is off, none of it loads.
  const tracing = config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined && !config.OTEL_SDK_DISABLED;
  const telemetry = tracing ? (await import('./telemetry.js')).startTelemetry(config) : undefined;
  const { main } = await import('./main.js');
  await main(config, telemetry);
}

start().catch((err: Error) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: `startup failed: ${err.message}` })}\n`);
  process.exit(1);
});
