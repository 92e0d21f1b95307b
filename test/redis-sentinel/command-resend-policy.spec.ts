import { mayResend } from '../../libs/redis-sentinel/src/command-resend-policy.js';

describe('which in-flight command is sent again after a dropped connection', () => {
  it('a lone read-only command or (un)subscription: running it twice changes nothing', () => {
    for (const name of [
      'get',
      'MGET',
      'xread',
      'hgetall',
      'exists',
      'evalsha_ro',
      'subscribe',
      'psubscribe',
      'unsubscribe',
    ]) {
      expect(mayResend({ name }), name).toBe(true);
    }
  });

  it('never a write, a script, a blocking pop, or any command of a pipeline or MULTI', () => {
    for (const name of [
      'set',
      'xadd',
      'incr',
      'evalsha',
      'eval',
      'blpop',
      'bzpopmin',
      'xreadgroup',
      'publish',
      'addJob:6.7.0',
    ]) {
      expect(mayResend({ name }), name).toBe(false);
    }
    expect(mayResend({ name: 'get', pipelineIndex: 0 })).toBe(false);
    expect(mayResend({ name: 'get', inTransaction: true })).toBe(false);
  });
});
