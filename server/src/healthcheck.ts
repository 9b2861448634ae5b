// Container health check without curl: `node dist/healthcheck.js` exits 0 when /health/live answers 200.
import { request } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const req = request({ host: '127.0.0.1', port, path: '/health/live', timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
req.end();
