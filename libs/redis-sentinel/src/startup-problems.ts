/**
 * What a failed startup says, and whether waiting could change it. Every line is flat (no
 * nested "last error"), worded the same for every client (so lines from several clients merge),
 * names the option to fix, and never contains a password.
 */
import { formatAddress, type RedisAddress } from './redis-address.js';
import { RedisSentinelStartupError } from './redis-sentinel.errors.js';
import type { ResolvedRedisSentinelOptions } from './redis-sentinel-options.resolver.js';
import { UnknownMasterError } from './sentinel-query.js';

/**
 * Answers that waiting will not change: the Sentinel monitors no such master, refused the
 * credential or the command (ACL), or is not a Sentinel at all.
 */
type PermanentKind = 'unknown-master' | 'wrongpass' | 'noauth' | 'noperm' | 'not-sentinel';

/** How one Sentinel answered one round of "where is the master?". */
export interface SentinelAnswer {
  sentinel: string;
  kind: PermanentKind | 'transient';
  error: Error;
}

export function classifySentinelAnswer(sentinel: RedisAddress, error: Error): SentinelAnswer {
  return { sentinel: formatAddress(sentinel)!, kind: permanentKind(error) ?? 'transient', error };
}

function permanentKind(error: Error): PermanentKind | undefined {
  if (error instanceof UnknownMasterError) return 'unknown-master';
  if (error.name !== 'ReplyError') return undefined;
  const code = error.message.split(' ', 1)[0];
  // Redis < 6 says "ERR invalid password" where 6+ says WRONGPASS.
  if (code === 'WRONGPASS' || error.message.startsWith('ERR invalid password')) return 'wrongpass';
  if (code === 'NOAUTH') return 'noauth';
  if (code === 'NOPERM') return 'noperm';
  // A data node listed as a Sentinel (e.g. port 6379 instead of 26379).
  if (/^ERR unknown command .SENTINEL./i.test(error.message)) return 'not-sentinel';
  return undefined;
}

/**
 * Lines for one round in which no Sentinel named the master. `permanent` only when every
 * configured Sentinel answered and every answer was permanent: a Sentinel that did not answer
 * (down, frozen, unreachable) might know the master once it is back, so that keeps the wait.
 */
export function sentinelRoundProblems(
  answers: readonly SentinelAnswer[],
  options: ResolvedRedisSentinelOptions,
): { permanent: boolean; problems: string[] } {
  const permanent =
    answers.length === options.sentinels.length && answers.every((a) => a.kind !== 'transient');
  const problems: string[] = [];
  const byKind = (kind: SentinelAnswer['kind']) => answers.filter((a) => a.kind === kind);
  const unknown = byKind('unknown-master');
  if (unknown.length > 0) problems.push(unknownMasterLine(unknown, options.masterName));
  const credential = options.sentinelUsername ? 'sentinelUsername/sentinelPassword' : 'sentinelPassword';
  const wrongpass = byKind('wrongpass');
  if (wrongpass.length > 0) {
    problems.push(`${sentinels(wrongpass)} refused ${credential} (${first(wrongpass)}): check ${credential}`);
  }
  const noauth = byKind('noauth');
  if (noauth.length > 0) {
    problems.push(
      `${sentinels(noauth)} require${noauth.length > 1 ? '' : 's'} a password (${first(noauth)})` +
        (options.sentinelPassword
          ? `: check sentinelUsername/sentinelPassword`
          : ' and sentinelPassword is not set'),
    );
  }
  const noperm = byKind('noperm');
  if (noperm.length > 0) {
    problems.push(
      `${sentinels(noperm)} refused a command to the Sentinel user (${first(noperm)}): grant it ` +
        'the ACL rules listed under "Server-side recommendations" in the README',
    );
  }
  const notSentinel = byKind('not-sentinel');
  if (notSentinel.length > 0) {
    problems.push(
      `${notSentinel.map((a) => a.sentinel).join(', ')} answered like a Redis data node, not a Sentinel ` +
        `(${first(notSentinel)}): sentinels must list Sentinel ports (26379 by default)`,
    );
  }
  for (const a of byKind('transient')) problems.push(`Sentinel ${a.sentinel}: ${a.error.message}`);
  return { permanent, problems };
}

function unknownMasterLine(answers: readonly SentinelAnswer[], masterName: string): string {
  const errors = answers.map((a) => a.error as UnknownMasterError);
  const listed = errors.filter((e) => e.knownMasters !== undefined);
  const known = [...new Set(listed.flatMap((e) => e.knownMasters!))];
  let monitored: string;
  if (listed.length === 0) {
    monitored = `their master list could not be read (${errors[0]!.listError}); set masterName to the name in "sentinel monitor <name>"`;
  } else if (known.length === 0) {
    monitored = 'they monitor no master at all; check the Sentinel configuration (sentinel monitor)';
  } else {
    monitored = `they monitor ${known.map((n) => `"${n}"`).join(', ')}: set masterName to one of them`;
  }
  return `masterName "${masterName}" is unknown to ${sentinels(answers)}; ${monitored}`;
}

function sentinels(answers: readonly SentinelAnswer[]): string {
  return `${answers.length > 1 ? 'Sentinels' : 'Sentinel'} ${answers.map((a) => a.sentinel).join(', ')}`;
}

function first(answers: readonly SentinelAnswer[]): string {
  return answers[0]!.error.message;
}

/**
 * The line for a data node (or the standalone server) that refused the `password` option, or
 * `undefined` if `error` is not such a refusal. One answer is enough: the node checked the
 * credential itself.
 */
export function dataNodeAuthProblem(
  error: Error,
  address: RedisAddress | undefined,
  options: ResolvedRedisSentinelOptions,
): string | undefined {
  const kind = permanentKind(error);
  if (kind !== 'wrongpass' && kind !== 'noauth') return undefined;
  const where =
    options.mode === 'sentinel'
      ? `Redis ${formatAddress(address) ?? 'node'} (named by the Sentinels)`
      : `Redis ${formatAddress(address ?? options.standalone)}`;
  const credential = options.username ? 'username/password' : 'password';
  // In standalone mode the credentials may come from `url` (redis://user:pass@host).
  const fix = options.mode === 'standalone' ? `${credential} (or the credentials in url)` : credential;
  if (kind === 'noauth' && !options.password) {
    return `${where} requires a password (${error.message}) and ${fix} is not set`;
  }
  return `${where} refused ${credential} (${error.message}): check ${fix}`;
}

/**
 * Waits for every client's `connect()`. Throws one `RedisSentinelStartupError` with every
 * client's lines once; returns early on the first permanent failure, since the app cannot
 * start whatever the other clients do.
 */
export async function waitForClients(connects: ReadonlyArray<Promise<void>>): Promise<void> {
  const failures: unknown[] = [];
  await new Promise<void>((resolve) => {
    let pending = connects.length;
    if (pending === 0) resolve();
    for (const connect of connects) {
      connect
        .catch((err: unknown) => {
          failures.push(err);
          if (err instanceof RedisSentinelStartupError && err.permanent) resolve();
        })
        .finally(() => {
          if (--pending === 0) resolve();
        });
    }
  });
  if (failures.length === 0) return;
  const problems = new Set<string>();
  let permanent = false;
  for (const failure of failures) {
    if (failure instanceof RedisSentinelStartupError) {
      failure.problems.forEach((p) => problems.add(p));
      permanent ||= failure.permanent;
    } else {
      problems.add((failure as Error).message);
    }
  }
  throw new RedisSentinelStartupError([...problems], permanent);
}
