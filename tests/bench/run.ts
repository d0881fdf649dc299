import { benchCli } from './cli.bench.ts';
import { benchDelivery } from './delivery.bench.ts';
import { benchJiraReconcile } from './jira-reconcile.bench.ts';
import { benchMetrics } from './metrics.bench.ts';
import { benchPagerDutyReconcile } from './pagerduty-reconcile.bench.ts';
import { benchPagerDutySync } from './pagerduty-sync.bench.ts';
import { benchSoak } from './soak.bench.ts';
import { benchWebhookLatency } from './webhook-latency.bench.ts';

/** `npm run bench [-- name...]`: prints figures; nothing here asserts timings. */
const benches: Record<string, () => Promise<void>> = {
  'pagerduty-sync': () => benchPagerDutySync(),
  'pagerduty-reconcile': () => benchPagerDutyReconcile(),
  'jira-reconcile': () => benchJiraReconcile(),
  'webhook-latency': () => benchWebhookLatency(),
  metrics: () => benchMetrics(),
  delivery: () => benchDelivery(),
  cli: () => benchCli(),
  soak: () => benchSoak(),
};

/** Run only when named: the soak takes half an hour. */
const onRequest = new Set(['soak']);

const selected = process.argv.slice(2);
for (const name of selected.length > 0 ? selected : Object.keys(benches).filter((bench) => !onRequest.has(bench))) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark '${name}'; choose from ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  await bench();
}
