/**
 * Jest setup (jest.config.js `setupFiles`): handlers under test write no CloudWatch EMF lines to stdout, as in the
 * local stack (LOCAL_METRICS_ENV). Tests about the metrics turn them on again (test/unit/ingest-metrics.test.ts).
 */
import { LOCAL_METRICS_ENV } from '../../lambdas/shared/metrics';

for (const [name, value] of Object.entries(LOCAL_METRICS_ENV)) process.env[name] ??= value;
