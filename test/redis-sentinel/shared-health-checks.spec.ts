import { SharedHealthChecks } from '../../libs/redis-sentinel/src/shared-health-checks.js';

/** A check whose answer the test gives, counting how many were started. */
function controlledCheck() {
  const pending: Array<(answer: string) => void> = [];
  const check = () => new Promise<string>((resolve) => pending.push(resolve));
  return { check, pending };
}

describe('health checks shared while in flight and reused for a short time', () => {
  it('concurrent calls of one key share one check, and all get its answer', async () => {
    const checks = new SharedHealthChecks<string>(() => 0);
    const { check, pending } = controlledCheck();
    const answers = Promise.all(Array.from({ length: 50 }, () => checks.run('default', 'a', 0, check)));
    expect(pending).toHaveLength(1);
    pending[0]!('up');
    expect(await answers).toEqual(Array(50).fill('up'));
    expect(checks.started).toBe(1);
  });

  it('an answer is reused while younger than freshnessMs (counted from the check start), then checked again', async () => {
    let now = 1000;
    const checks = new SharedHealthChecks<string>(() => now);
    const { check, pending } = controlledCheck();
    const first = checks.run('default', 'a', 250, check);
    now += 100; // the check took 100 ms
    pending[0]!('up');
    await first;
    now += 149; // 249 ms after the start
    expect(await checks.run('default', 'a', 250, check)).toBe('up');
    expect(pending).toHaveLength(1);
    now += 1; // 250 ms after the start: too old
    const again = checks.run('default', 'a', 250, check);
    expect(pending).toHaveLength(2);
    pending[1]!('down');
    expect(await again).toBe('down');
  });

  it('freshnessMs 0: no answer is reused once its check has ended', async () => {
    const checks = new SharedHealthChecks<string>(() => 0);
    const { check, pending } = controlledCheck();
    const first = checks.run('default', 'a', 0, check);
    pending[0]!('up');
    await first;
    void checks.run('default', 'a', 0, check);
    expect(pending).toHaveLength(2);
  });

  it('a changed fingerprint (reconnect, other node, failover) neither joins the check in flight nor reuses an answer', async () => {
    const checks = new SharedHealthChecks<string>(() => 0);
    const { check, pending } = controlledCheck();
    const before = checks.run('default', 'generation 0', 60_000, check);
    const after = checks.run('default', 'generation 1', 60_000, check);
    expect(pending).toHaveLength(2);
    pending[0]!('up');
    pending[1]!('down');
    expect([await before, await after]).toEqual(['up', 'down']);
    // The newest state's answer is the one kept.
    expect(await checks.run('default', 'generation 1', 60_000, check)).toBe('down');
    void checks.run('default', 'generation 0', 60_000, check);
    expect(pending).toHaveLength(3);
  });

  it('keys (client, timeout, quorum) do not share', () => {
    const checks = new SharedHealthChecks<string>(() => 0);
    const { check, pending } = controlledCheck();
    void checks.run('default 500 false', 'a', 60_000, check);
    void checks.run('default 500 true', 'a', 60_000, check);
    void checks.run('reads 500 false', 'a', 60_000, check);
    expect(pending).toHaveLength(3);
  });
});
