import { CATEGORIES, SEVERITIES, STATUSES, type Category, type Severity, type Status } from './event';
import seed from '../../config/event-types.json';

/** One known event type: what it means and the defaults an event of it gets. */
export interface EventTypeDefinition {
  type: string;
  category: Category;
  severity: Severity;
  status: Status;
  description: string;
  /** Fields an event of this type usually carries (documentation only). */
  fields?: string[];
  /** Whether the default rules alert on it. */
  alerts?: boolean;
}

/** What ingestion does with a type the registry does not know. */
export type UnknownTypePolicy = 'accept' | 'reject';

/** `user.login.failed`: lower-case dotted segments, at least two. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+){1,5}$/;

/**
 * For a type nobody registered, the first segment still says a lot about
 * the category; used only when the event does not name one itself.
 */
const CATEGORY_BY_PREFIX: Record<string, Category> = {
  user: 'user_activity',
  admin: 'admin_activity',
  payment: 'payment',
  billing: 'payment',
  security: 'security',
  auth: 'security',
  content: 'content_update',
  file: 'content_update',
  notification: 'notification',
  api: 'system_error',
  server: 'system_error',
  database: 'system_error',
  db: 'system_error',
  job: 'system_error',
  client: 'system_error',
};

export class EventTypeRegistry {
  private readonly byType = new Map<string, EventTypeDefinition>();

  constructor(definitions: Iterable<unknown> = []) {
    for (const definition of definitions) this.register(definition);
  }

  /** Adds or replaces a definition after checking it; throws with the reason if it is malformed. */
  register(input: unknown): EventTypeDefinition {
    const definition = parseDefinition(input);
    this.byType.set(definition.type, definition);
    return definition;
  }

  get(type: string): EventTypeDefinition | undefined {
    return this.byType.get(type);
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  /** Every definition, sorted by type name. */
  list(): EventTypeDefinition[] {
    return [...this.byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  }

  /** The category an event of `type` gets when it does not name one. */
  defaultCategory(type: string): Category | undefined {
    return this.get(type)?.category ?? CATEGORY_BY_PREFIX[type.split('.')[0]];
  }
}

function parseDefinition(input: unknown): EventTypeDefinition {
  const fail = (reason: string): never => {
    throw new Error(`invalid event type definition ${JSON.stringify(input)}: ${reason}`);
  };
  if (typeof input !== 'object' || input === null) return fail('not an object');
  const d = input as Record<string, unknown>;
  if (typeof d.type !== 'string' || !EVENT_TYPE_PATTERN.test(d.type)) return fail('type must be lower-case and dotted');
  if (!CATEGORIES.includes(d.category as Category)) return fail(`category must be one of ${CATEGORIES.join(', ')}`);
  if (!SEVERITIES.includes(d.severity as Severity)) return fail(`severity must be one of ${SEVERITIES.join(', ')}`);
  const status = d.status ?? 'success';
  if (!STATUSES.includes(status as Status)) return fail(`status must be one of ${STATUSES.join(', ')}`);
  if (typeof d.description !== 'string' || d.description.length === 0) return fail('description is required');
  if (d.fields !== undefined && !(Array.isArray(d.fields) && d.fields.every((f) => typeof f === 'string'))) {
    return fail('fields must be a list of strings');
  }
  return {
    type: d.type,
    category: d.category as Category,
    severity: d.severity as Severity,
    status: status as Status,
    description: d.description,
    ...(d.fields ? { fields: d.fields as string[] } : {}),
    ...(d.alerts === true ? { alerts: true } : {}),
  };
}

/** The built-in seed types plus any extra definitions (from configuration). */
export function createRegistry(extra: unknown[] = []): EventTypeRegistry {
  return new EventTypeRegistry([...seed.types, ...extra]);
}
