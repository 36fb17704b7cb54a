// For development: start the hub on 4100-4105 and the dashboard on http://127.0.0.1:4104 (Ctrl-C stops both).
import { startEnvironment } from './harness.mjs';
const env = await startEnvironment();
console.log(`dashboard: ${env.baseUrl}/  (hub ${env.gatewayUrl}; demo tokens for ${env.tokens.map((t) => t.kind).join(', ')})`);
const stop = async () => {
  await env.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
