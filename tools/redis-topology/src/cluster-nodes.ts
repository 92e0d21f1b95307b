/**
 * `CLUSTER NODES` parsed: one node's view of the cluster (who is master of which slots, who
 * replicates whom, who is failing). Views differ between nodes until gossip converges.
 */
import { CLUSTER_SLOTS } from './cluster-key-slot.js';

export interface ClusterNodesEntry {
  /** The 40-character node id. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly busPort: number;
  /** `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`, `nofailover`, `noflags`. */
  readonly flags: readonly string[];
  /** The id of its master for a replica; undefined for a master. */
  readonly masterId: string | undefined;
  readonly configEpoch: number;
  readonly linkState: 'connected' | 'disconnected';
  /** Slot ranges it serves, inclusive (`[start, end]`); migration markers are left out. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

/** Parses the reply of `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNodesEntry[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [id, address, flags, master, , , epoch, link, ...slotFields] = line.split(' ');
      // ip:port@cport[,hostname]
      const match = /^(.*):(\d+)@(\d+)/.exec(address ?? '');
      if (!id || !match || !flags || !master || !epoch || !link) {
        throw new Error(`unexpected CLUSTER NODES line: ${line}`);
      }
      const slots: Array<[number, number]> = [];
      for (const field of slotFields) {
        if (field.startsWith('[')) continue; // [slot->-id] migrating / [slot-<-id] importing
        const [start, end = start] = field.split('-');
        slots.push([Number(start), Number(end)]);
      }
      return {
        id,
        host: match[1]!,
        port: Number(match[2]),
        busPort: Number(match[3]),
        flags: flags.split(','),
        masterId: master === '-' ? undefined : master,
        configEpoch: Number(epoch),
        linkState: link === 'connected' ? 'connected' : 'disconnected',
        slots,
      };
    });
}

/** Whether the entry is a master that this view does not consider failed (`fail`). */
export function isLiveMaster(entry: ClusterNodesEntry): boolean {
  return entry.flags.includes('master') && !entry.flags.includes('fail');
}

/** For each of the 16384 slots, the id of the node that serves it in this view (or undefined). */
export function slotOwners(view: readonly ClusterNodesEntry[]): Array<string | undefined> {
  const owners = Array.from<string | undefined>({ length: CLUSTER_SLOTS });
  for (const entry of view) {
    for (const [start, end] of entry.slots) for (let s = start; s <= end; s++) owners[s] = entry.id;
  }
  return owners;
}
