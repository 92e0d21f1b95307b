/** Operations on the deployed stack, through the private daemon only. */
import type { PrivateDocker } from './daemon.js';
import { sleep } from './load.js';

export const STACK = 'bastion';
export const DATA_NODES = ['redis-master', 'redis-replica-1', 'redis-replica-2'];
export const SENTINELS = ['redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3'];

export interface Container {
  id: string;
  service: string;
  state: string;
  status: string;
  created: string;
}

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | false>,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await sleep(everyMs);
  }
}

export class Stack {
  constructor(private readonly d: PrivateDocker) {}

  /** Every container of the stack (running or not), newest first. */
  async containers(all = false): Promise<Container[]> {
    const { stdout } = await this.d.docker([
      'ps',
      ...(all ? ['-a'] : []),
      '--filter',
      `label=com.docker.stack.namespace=${STACK}`,
      '--format',
      '{{.ID}}\t{{.Label "com.docker.swarm.service.name"}}\t{{.State}}\t{{.Status}}\t{{.CreatedAt}}',
    ]);
    return stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [id, service, state, status, created] = l.split('\t');
        return {
          id: id!,
          service: service!.replace(`${STACK}_`, ''),
          state: state!,
          status: status!,
          created: created!,
        };
      });
  }

  async running(service: string): Promise<Container[]> {
    return (await this.containers()).filter((c) => c.service === service && c.state === 'running');
  }

  async one(service: string): Promise<Container> {
    const [c] = await this.running(service);
    if (!c) throw new Error(`no running container of ${service}`);
    return c;
  }

  /** Services whose expected number of tasks run and pass their own Docker health check. */
  async unhealthy(expected: Record<string, number>): Promise<string[]> {
    const cs = await this.containers();
    return Object.entries(expected)
      .filter(([svc, n]) => cs.filter((c) => c.service === svc && /\(healthy\)/.test(c.status)).length < n)
      .map(([svc]) => svc);
  }

  /** Each running app task's address on docker_gwbridge (reachable from this host only). */
  async appAddresses(): Promise<Map<string, string>> {
    const ids = (await this.running('app')).map((c) => c.id);
    const { stdout } = await this.d.docker([
      'network',
      'inspect',
      'docker_gwbridge',
      '--format',
      '{{json .Containers}}',
    ]);
    const map = JSON.parse(stdout) as Record<string, { IPv4Address: string }>;
    const out = new Map<string, string>();
    for (const [full, v] of Object.entries(map)) {
      const id = ids.find((i) => full.startsWith(i));
      if (id) out.set(id, v.IPv4Address.split('/')[0]!);
    }
    return out;
  }

  exec(container: string, args: string[], input?: string) {
    return this.d.docker(['exec', ...(input !== undefined ? ['-i'] : []), container, ...args], {
      input,
      timeoutMs: 20_000,
    });
  }

  /** redis-cli on a data node, authenticated from its mounted secret (never on a command line). */
  async rcli(service: string, args: string[], input?: string): Promise<string> {
    const c = await this.one(service);
    const r = await this.exec(
      c.id,
      [
        'sh',
        '-c',
        'REDISCLI_AUTH="$(cat /run/secrets/redis_password)" redis-cli --no-auth-warning "$@"',
        '_',
        ...args,
      ],
      input,
    );
    return r.stdout.trim();
  }

  async scli(service: string, args: string[], input?: string): Promise<string> {
    const c = await this.one(service);
    const r = await this.exec(
      c.id,
      [
        'sh',
        '-c',
        'REDISCLI_AUTH="$(cat /run/secrets/sentinel_password)" redis-cli --no-auth-warning -p 26379 "$@"',
        '_',
        ...args,
      ],
      input,
    );
    return r.stdout.trim();
  }

  /** The master as the Sentinels name it (a service name: announce-hostnames). */
  async masterBySentinels(): Promise<string[]> {
    const out: string[] = [];
    for (const s of SENTINELS) {
      try {
        out.push((await this.scli(s, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster'])).split('\n')[0]!);
      } catch {
        out.push('?');
      }
    }
    return out;
  }

  /** Role of each data node: 'master' or 'slave->host:up|down'. */
  async roles(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const n of DATA_NODES) {
      try {
        const info = await this.rcli(n, ['INFO', 'replication']);
        const role = /role:(\w+)/.exec(info)?.[1] ?? '?';
        out[n] =
          role === 'master'
            ? 'master'
            : `slave->${/master_host:(\S+)/.exec(info)?.[1]}:${/master_link_status:(\w+)/.exec(info)?.[1]}`;
      } catch {
        out[n] = 'unreachable';
      }
    }
    return out;
  }

  /** One master, both others in sync with it, and every Sentinel naming it. */
  async settled(): Promise<string | undefined> {
    const roles = await this.roles();
    const masters = Object.entries(roles).filter(([, r]) => r === 'master');
    if (masters.length !== 1) return undefined;
    const master = masters[0]![0];
    const ok = Object.entries(roles).every(([n, r]) => n === master || r === `slave->${master}:up`);
    const named = await this.masterBySentinels();
    return ok && named.every((m) => m === master) ? master : undefined;
  }

  async dbsize(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const n of DATA_NODES) out[n] = Number(await this.rcli(n, ['DBSIZE']));
    return out;
  }

  /** Accepted job ids that have no BullMQ job hash (bull:jobs:<id>) on the node. */
  async missingJobs(node: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const input = ids.map((id) => `EXISTS bull:jobs:${id}\n`).join('');
    const lines = (await this.rcli(node, [], input)).split('\n');
    if (lines.length !== ids.length) throw new Error(`EXISTS: ${lines.length} answers for ${ids.length} ids`);
    return ids.filter((_, i) => lines[i]!.trim() !== '1');
  }

  /** `docker logs -t` of every container (dead ones included) of the services. */
  async logs(
    services: string[],
  ): Promise<Array<{ service: string; container: string; t: number; line: string }>> {
    const out: Array<{ service: string; container: string; t: number; line: string }> = [];
    for (const c of (await this.containers(true)).filter((x) => services.includes(x.service))) {
      const r = await this.d.docker(['logs', '-t', c.id], { allowFail: true });
      for (const l of (r.stdout + r.stderr).split('\n').filter(Boolean)) {
        const sp = l.indexOf(' ');
        out.push({
          service: c.service,
          container: c.id,
          t: Date.parse(l.slice(0, sp)),
          line: l.slice(sp + 1),
        });
      }
    }
    return out.toSorted((a, b) => a.t - b.t);
  }
}
