import { parseRedisUrl } from '../../libs/redis-sentinel/src/redis-url.parser.js';
import { isPort, parseSentinelAddresses } from '../../libs/redis-sentinel/src/sentinel-address.parser.js';

const problem = (url: string) => (parseRedisUrl(url) as { problem: string }).problem;

describe('parseRedisUrl (unit)', () => {
  it('reads host, port, credentials, db and TLS; 6379 when no port', () => {
    expect(parseRedisUrl('rediss://app:p%40ss@redis.example:6380/2')).toEqual({
      address: { host: 'redis.example', port: 6380 },
      username: 'app',
      password: 'p@ss',
      db: 2,
      tls: true,
    });
    expect(parseRedisUrl('redis://[::1]')).toEqual({
      address: { host: '::1', port: 6379 },
      username: undefined,
      password: undefined,
      db: undefined,
      tls: false,
    });
  });

  it('gives one problem per bad URL and never echoes the URL (it may hold a password)', () => {
    expect(problem('not a url :hunter2')).toMatch(/^is not a valid URL/);
    expect(problem('http://h:6379')).toMatch(/^has the unsupported scheme "http:"; use redis: or rediss:/);
    expect(problem('redis://:hunter2@h:6379/x')).toMatch(
      /^has a path that is not a database number \(got "\/x"\)/,
    );
    for (const url of ['not a url :hunter2', 'http://:hunter2@h', 'redis://:hunter2@h:6379/x']) {
      expect(problem(url)).not.toContain('hunter2');
      expect(problem(url)).toMatch(/e\.g\. "redis:\/\/redis:6379\/0"/);
    }
  });
});

describe('parseSentinelAddresses (unit)', () => {
  it('reads "h:p" lists (spaces, empty items, IPv6) and arrays', () => {
    expect(parseSentinelAddresses(' s1:26379, ,[::1]:26380 ')).toEqual({
      addresses: [
        { host: 's1', port: 26_379 },
        { host: '::1', port: 26_380 },
      ],
      problems: [],
    });
    expect(parseSentinelAddresses([{ host: 's1', port: 26_379 }]).addresses).toEqual([
      { host: 's1', port: 26_379 },
    ]);
  });

  it('reports every bad entry with its index, the value given and an example', () => {
    expect(parseSentinelAddresses('s1:26379,s2;26379,s3:0').problems).toEqual([
      'sentinels[1] is not host:port (got "s2;26379"); e.g. "sentinel-2:26379"',
      'sentinels[2] has no valid port, 1-65535 (got "s3:0"); e.g. "s3:26379"',
    ]);
    expect(parseSentinelAddresses([{ host: 's1' }, { port: 1 }]).problems).toEqual([
      'sentinels[0] has no valid port, 1-65535 (got {"host":"s1"}); e.g. { host: "s1", port: 26379 }',
      'sentinels[1] is not host:port (got {"port":1}); e.g. "sentinel-2:26379"',
    ]);
    expect(parseSentinelAddresses([]).problems).toEqual([expect.stringMatching(/^sentinels is empty; /)]);
  });

  it('isPort accepts integers 1-65535 only', () => {
    expect([1, 65_535].every(isPort)).toBe(true);
    expect([0, 65_536, 1.5, '6379', Number.NaN].some(isPort)).toBe(false);
  });
});
