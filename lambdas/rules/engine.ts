import { routeChannels, webhooksFromEnv } from '../adapters/channel-router';
import { DynamoNotificationStore } from '../adapters/notification-store';
import { OutboxFilePublisher } from '../adapters/outbox-file-publisher';
import { DynamoRuleStateStore } from '../adapters/rule-state-store';
import { DynamoRuleStore } from '../adapters/rule-store';
import { SnsPublisher, snsTopicsFromEnv } from '../adapters/sns-publisher';
import { RuleEngine, cachedRules } from '../core/rule-engine';
import { DEFAULT_RULES } from '../core/rules';
import { logger } from '../shared/http';
import { deliveryMetrics } from '../shared/metrics';

/** Rules are re-read at most this often (RULES_CACHE_SECONDS, default 30): an edit takes effect within it. */
export const RULES_CACHE_MS = Number(process.env.RULES_CACHE_SECONDS ?? 30) * 1000;

const ruleStore = new DynamoRuleStore();

/**
 * On the first load after a deploy the Rules table is empty: the default
 * rules are created then (conditional puts, once per installation; see
 * DynamoRuleStore.ensureDefaults). This replaces a CloudFormation custom
 * resource, which would need its own function and role for one write.
 */
async function loadRules() {
  let { rules, defaultsCreated } = await ruleStore.list();
  if (!defaultsCreated) {
    const created = await ruleStore.ensureDefaults(DEFAULT_RULES);
    logger.info('default rules created', { created });
    ({ rules } = await ruleStore.list());
  }
  return rules;
}

/** The rule engine as the rule function and the silence check run it, built once per cold start. */
export function createRuleEngine(): RuleEngine {
  return new RuleEngine({
    rules: cachedRules(loadRules, RULES_CACHE_MS),
    state: new DynamoRuleStateStore(),
    outbox: new DynamoNotificationStore(),
    // Email and SMS: locally (no SNS emulator) to an outbox file, on AWS to the topics. Webhooks really post, in both.
    publisher: routeChannels(
      process.env.LOCAL_OUTBOX_FILE ? new OutboxFilePublisher(process.env.LOCAL_OUTBOX_FILE) : new SnsPublisher(snsTopicsFromEnv()),
      webhooksFromEnv(),
    ),
    adminUrl: () => process.env.ADMIN_URL || undefined,
    log: (level, message, details) => logger[level](message, details ?? {}),
    // Written when the invocation ends: every handler running this engine uses flushMetrics().
    metrics: deliveryMetrics,
  });
}
