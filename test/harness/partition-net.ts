/**
 * Partition harness: a private network of Linux network namespaces, cut and healed with iptables.
 *
 *   root namespace (the test process = the client under test)
 *     veth `<tag>c` 10.213.S.1 (client) + 10.213.S.2 (control plane, never cut)
 *        |
 *   `<tag>-hub` namespace: bridge br0 (a fresh namespace, so its firewall is empty whatever the
 *        |                 host's FORWARD policy or br_netfilter settings are)
 *   `<tag>-<node>` namespaces, one per node: eth0 10.213.S.1x, plus chains PART_IN / PART_OUT
 *
 * Every cut is a DROP rule inside a node's own namespace (INPUT by source, OUTPUT by destination),
 * so the host's firewall is never touched, and a heal is a flush of those two chains. The client
 * stays in the root namespace: its only path to the nodes is its veth, and the nodes listen only
 * on their namespace address, so cutting the client is a rule in the peer's namespace that
 * matches 10.213.S.1. The harness's own checks use 10.213.S.2 and keep working during a cut.
 *
 * Names carry the owner's pid (`bpt<pid>-...`): at start, namespaces and links of a dead owner
 * (a crashed or SIGKILLed run) are removed; an exit hook removes this process's own.
 */
import { spawn, spawnSync } from 'node:child_process';

const PREFIX = 'bpt';
/** Every iptables/ip call at run time gets this deadline. */
const CALL_TIMEOUT_MS = 5000;

export const CLIENT = 'client';

/** Why partition tests cannot run here, or undefined when they can (root, ip, iptables). */
export function partitionUnsupportedReason(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces and iptables need root';
  for (const [bin, args] of [
    ['ip', ['-V']],
    ['iptables', ['-V']],
    ['iptables-restore', ['-V']],
  ] as const) {
    const probe = spawnSync(bin, args, { encoding: 'utf8', timeout: CALL_TIMEOUT_MS });
    if (probe.error || probe.status !== 0) {
      return `"${bin}" is missing (Debian: apt-get install iproute2 iptables)`;
    }
  }
  return undefined;
}

function runSync(cmd: string, args: string[], input?: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: CALL_TIMEOUT_MS });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr.trim()}`);
  }
}

function runAsync(cmd: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), CALL_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code ?? signal}): ${stderr.trim()}`));
    });
    child.stdin.end(input ?? '');
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills the processes left in a namespace and deletes it. Never throws. */
function deleteNamespaceSync(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: CALL_TIMEOUT_MS });
  for (const pid of (pids.stdout ?? '').split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'delete', ns], { timeout: CALL_TIMEOUT_MS });
}

/** The pid in a harness-made name (`bpt<pid>...`). */
function ownerPid(name: string): number | undefined {
  const m = new RegExp(`^${PREFIX}(\\d+)`).exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Removes namespaces and root-namespace links of earlier runs whose process is gone. */
export function cleanLeftovers(): string[] {
  const removed: string[] = [];
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: CALL_TIMEOUT_MS });
  for (const line of (list.stdout ?? '').split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const pid = ownerPid(ns);
    if (pid !== undefined && !pidAlive(pid)) {
      deleteNamespaceSync(ns);
      removed.push(ns);
    }
  }
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8', timeout: CALL_TIMEOUT_MS });
  for (const line of (links.stdout ?? '').split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1];
    const pid = name ? ownerPid(name) : undefined;
    if (name && pid !== undefined && !pidAlive(pid)) {
      spawnSync('ip', ['link', 'delete', name], { timeout: CALL_TIMEOUT_MS });
      removed.push(name);
    }
  }
  return removed;
}

const liveNets = new Set<PartitionNet>();
let hooksInstalled = false;

function destroyAllNets(): void {
  for (const net of liveNets) net.destroy();
}

/** Removes this process's namespaces when it exits, also on SIGINT/SIGTERM. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', destroyAllNets);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      destroyAllNets();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Picks a /24 in 10.213.0.0/16 that no interface of this machine uses. */
function freeSubnet(): string {
  const used = spawnSync('ip', ['-o', '-4', 'addr', 'show'], {
    encoding: 'utf8',
    timeout: CALL_TIMEOUT_MS,
  }).stdout;
  for (let i = 0; i < 250; i++) {
    const third = ((process.pid + i) % 250) + 1;
    const subnet = `10.213.${third}`;
    if (!used.includes(` ${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.213.x.0/24 subnet for the partition harness');
}

export class PartitionNet {
  readonly tag: string;
  readonly subnet: string;
  /** The address the client under test (this process) uses; cuts match it. */
  readonly clientIp: string;
  /** The harness's own address for checks; never cut. */
  readonly controlIp: string;
  private readonly hub: string;
  private readonly nodes = new Map<string, { ns: string; ip: string }>();
  private destroyed = false;
  private static instances = 0;

  private constructor(names: readonly string[]) {
    // Two nets in one process (unlikely) must not share names.
    const n = PartitionNet.instances++;
    this.tag = n === 0 ? `${PREFIX}${process.pid}` : `${PREFIX}${process.pid}x${n}`;
    this.subnet = freeSubnet();
    this.clientIp = `${this.subnet}.1`;
    this.controlIp = `${this.subnet}.2`;
    this.hub = `${this.tag}-hub`;
    names.forEach((name, i) =>
      this.nodes.set(name, { ns: `${this.tag}-${name}`, ip: `${this.subnet}.${11 + i}` }),
    );
  }

  /** Creates the namespaces, the bridge and the links. Removes everything again if a step fails. */
  static create(names: readonly string[]): PartitionNet {
    const reason = partitionUnsupportedReason();
    if (reason) throw new Error(`partition harness: ${reason}`);
    cleanLeftovers();
    installExitHooks();
    const net = new PartitionNet(names);
    liveNets.add(net);
    try {
      net.build();
      return net;
    } catch (err) {
      net.destroy();
      throw err;
    }
  }

  private build(): void {
    const { hub, tag } = this;
    runSync('ip', ['netns', 'add', hub]);
    runSync('ip', ['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    runSync('ip', ['-n', hub, 'link', 'set', 'br0', 'up']);
    runSync('ip', ['-n', hub, 'link', 'set', 'lo', 'up']);
    // The client's link: root end keeps the tag (found by leftover cleanup), hub end on the bridge.
    runSync('ip', ['link', 'add', `${tag}c`, 'type', 'veth', 'peer', 'name', 'cl', 'netns', hub]);
    runSync('ip', ['-n', hub, 'link', 'set', 'cl', 'master', 'br0', 'up']);
    runSync('ip', ['addr', 'add', `${this.clientIp}/24`, 'dev', `${tag}c`]);
    runSync('ip', ['addr', 'add', `${this.controlIp}/24`, 'dev', `${tag}c`]);
    runSync('ip', ['link', 'set', `${tag}c`, 'up']);
    let i = 0;
    for (const { ns, ip } of this.nodes.values()) {
      const port = `p${i++}`;
      runSync('ip', ['netns', 'add', ns]);
      runSync('ip', ['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', hub]);
      runSync('ip', ['-n', hub, 'link', 'set', port, 'master', 'br0', 'up']);
      runSync('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      runSync('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      runSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      runSync(
        'ip',
        ['netns', 'exec', ns, 'iptables-restore'],
        '*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:OUTPUT ACCEPT\n:PART_IN -\n:PART_OUT -\n' +
          '-A INPUT -j PART_IN\n-A OUTPUT -j PART_OUT\nCOMMIT\n',
      );
    }
  }

  /** Namespace of a node (for `ip netns exec`). */
  namespace(name: string): string {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`partition harness: no node "${name}"`);
    return node.ns;
  }

  ip(name: string): string {
    if (name === CLIENT) return this.clientIp;
    const node = this.nodes.get(name);
    if (!node) throw new Error(`partition harness: no node "${name}"`);
    return node.ip;
  }

  /** Argv prefix that runs a command inside a node's namespace. */
  execIn(name: string): string[] {
    return ['ip', 'netns', 'exec', this.namespace(name)];
  }

  /**
   * Drops every packet from each of `from` to each of `to` (one direction). Rules go into a
   * node's namespace: the receiver's INPUT when it is a node, else the sender's OUTPUT.
   */
  async drop(from: readonly string[], to: readonly string[]): Promise<void> {
    await this.restoreAll(this.dropRules([[from, to]]));
  }

  /** Cuts both directions between every member of `a` and every member of `b`. */
  async cut(a: readonly string[], b: readonly string[]): Promise<void> {
    await this.restoreAll(
      this.dropRules([
        [a, b],
        [b, a],
      ]),
    );
  }

  private dropRules(pairs: Array<[readonly string[], readonly string[]]>): Array<[string, string[]]> {
    const rules = new Map<string, string[]>();
    const add = (name: string, rule: string): void => {
      const ns = this.namespace(name);
      rules.set(ns, [...(rules.get(ns) ?? []), rule]);
    };
    for (const [from, to] of pairs) {
      for (const a of from) {
        for (const b of to) {
          if (a === b) continue;
          if (b !== CLIENT) add(b, `-A PART_IN -s ${this.ip(a)}/32 -j DROP`);
          else if (a !== CLIENT) add(a, `-A PART_OUT -d ${this.ip(b)}/32 -j DROP`);
        }
      }
    }
    return [...rules];
  }

  /** Removes every cut. */
  async heal(): Promise<void> {
    await this.restoreAll([...this.nodes.values()].map(({ ns }) => [ns, ['-F PART_IN', '-F PART_OUT']]));
  }

  /**
   * Applies rules to several namespaces with ONE spawned shell: every spawn forks this (large)
   * process and stalls its event loop, which is the client's under test.
   */
  private async restoreAll(rules: Array<[string, string[]]>): Promise<void> {
    if (rules.length === 0) return;
    const script = rules
      .map(
        ([ns, lines]) =>
          `ip netns exec ${ns} iptables-restore --noflush <<'EOF'\n*filter\n${lines.join('\n')}\nCOMMIT\nEOF`,
      )
      .join('\n');
    await runAsync('sh', ['-e'], `${script}\n`);
  }

  /** Deletes every namespace and link this net made (killing what still runs in them). Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveNets.delete(this);
    for (const { ns } of this.nodes.values()) deleteNamespaceSync(ns);
    // Deleting the hub removes the veth ends in it, and with them their root-namespace peers.
    deleteNamespaceSync(this.hub);
    spawnSync('ip', ['link', 'delete', `${this.tag}c`], { timeout: CALL_TIMEOUT_MS, stdio: 'ignore' });
  }
}
