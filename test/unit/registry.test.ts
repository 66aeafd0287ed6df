import { createRegistry, EventTypeRegistry } from '../../lambdas/core/registry';

describe('EventTypeRegistry', () => {
  const registry = createRegistry();

  it('ships the types a product really emits', () => {
    for (const type of ['user.signup.succeeded', 'user.login.failed', 'user.logout', 'payment.charge.failed', 'file.uploaded', 'database.error', 'security.access.denied', 'notification.failed']) {
      expect(registry.get(type)).toBeDefined();
    }
    expect(registry.get('user.login.failed')).toMatchObject({ category: 'security', severity: 'warning', status: 'failure' });
  });

  it('registers new types without code changes and rejects malformed ones with the reason', () => {
    const custom = createRegistry([{ type: 'lander.ab_test.started', category: 'content_update', severity: 'info', description: 'An A/B test began.' }]);
    expect(custom.get('lander.ab_test.started')?.status).toBe('success');
    expect(() => new EventTypeRegistry([{ type: 'Bad Type', category: 'payment', severity: 'info', description: 'x' }])).toThrow(/lower-case/);
    expect(() => new EventTypeRegistry([{ type: 'a.b', category: 'nope', severity: 'info', description: 'x' }])).toThrow(/category must be one of/);
  });

  it('guesses a category for unregistered types from their first segment', () => {
    expect(registry.defaultCategory('payment.payout.failed')).toBe('payment');
    expect(registry.defaultCategory('widget.spun')).toBeUndefined();
  });
});
