import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RULES_TABLE } from '../../lib/declarations/tables';
import { DEFAULT_RULES, type Rule } from '../core/rules';
import { documentClient, tableName } from './dynamodb';

/** The item that says the default rules were created once; deleting a default rule must not bring it back. */
export const DEFAULTS_MARKER_ID = '_defaults';

/** Alert rules in DynamoDB. Writes are conditional, so two admins (or a seeding Lambda) never silently overwrite each other. */
export class DynamoRuleStore {
  constructor(
    private readonly client: DynamoDBDocumentClient = documentClient(),
    private readonly table: string = tableName(RULES_TABLE.envVar),
  ) {}

  /**
   * Every rule, by id; and whether the defaults were created. A few dozen items: a scan is the right read.
   * `defaultsCreated` is false while a default added by a later version (not yet listed in the marker) was never offered.
   */
  async list(): Promise<{ rules: Rule[]; defaultsCreated: boolean; seededDefaults?: string[] }> {
    const rules: Rule[] = [];
    let marker: Record<string, unknown> | undefined;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey, ConsistentRead: true }));
      for (const item of page.Items ?? []) {
        if (item.id === DEFAULTS_MARKER_ID) marker = item;
        else rules.push(item as Rule);
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    // A marker without its list of rules (written by hand, or very old) counts as having offered them all.
    const seededDefaults = Array.isArray(marker?.rules) ? (marker.rules as unknown[]).map(String) : undefined;
    const defaultsCreated = marker !== undefined && (seededDefaults === undefined || DEFAULT_RULES.every((rule) => seededDefaults.includes(rule.id)));
    return { rules: rules.sort((a, b) => a.id.localeCompare(b.id)), defaultsCreated, ...(seededDefaults ? { seededDefaults } : {}) };
  }

  async get(id: string): Promise<Rule | undefined> {
    if (id === DEFAULTS_MARKER_ID) return undefined;
    const { Item } = await this.client.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }));
    return Item as Rule | undefined;
  }

  /** Creates the rule; false when one with its id exists. */
  async create(rule: Rule): Promise<boolean> {
    return this.conditionalPut(rule, 'attribute_not_exists(id)');
  }

  /** Replaces an existing rule; false when there is none. */
  async replace(rule: Rule): Promise<boolean> {
    return this.conditionalPut(rule, 'attribute_exists(id)');
  }

  async delete(id: string): Promise<boolean> {
    try {
      await this.client.send(new DeleteCommand({ TableName: this.table, Key: { id }, ConditionExpression: 'attribute_exists(id)' }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Creates the default rules once per installation: each with a conditional
   * put (an admin's rule of the same id wins), then the marker, which lists
   * the ids offered. Safe to run concurrently and repeatedly; once the marker
   * lists every default it does nothing, so a deleted default stays deleted,
   * and a default added by a later version is created once on upgrade.
   */
  async ensureDefaults(defaults: readonly Rule[], now: Date = new Date()): Promise<number> {
    const { defaultsCreated, seededDefaults } = await this.list();
    if (defaultsCreated && (seededDefaults === undefined || defaults.every((rule) => seededDefaults.includes(rule.id)))) return 0;
    // Defaults a later version added (error tracking's, issue 5) are offered once too; those offered before are not again.
    const offered = new Set(seededDefaults ?? []);
    let created = 0;
    for (const rule of defaults) {
      if (offered.has(rule.id)) continue;
      if (await this.create({ ...rule, createdAt: now.toISOString(), createdBy: 'defaults' })) created++;
    }
    const rules = [...new Set([...offered, ...defaults.map((r) => r.id)])];
    await this.client.send(new PutCommand({ TableName: this.table, Item: { id: DEFAULTS_MARKER_ID, createdAt: now.toISOString(), rules } }));
    return created;
  }

  private async conditionalPut(rule: Rule, condition: string): Promise<boolean> {
    try {
      await this.client.send(new PutCommand({ TableName: this.table, Item: rule, ConditionExpression: condition }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
