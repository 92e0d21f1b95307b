export { clusterKeySlot, crc16, CLUSTER_SLOTS } from './cluster-key-slot.js';
export { isLiveMaster, parseClusterNodes, slotOwners, type ClusterNodesEntry } from './cluster-nodes.js';
export { freePort, freePortWithOffset, isPortFree } from './free-port.js';
export { pollUntil } from './poll-until.js';
export {
  RedisCluster,
  type ClusterFailoverMode,
  type ClusterOptions,
  type RedisClusterNode,
} from './redis-cluster.js';
export { RedisTopology, type NodeRole, type RedisNode, type TopologyOptions } from './redis-topology.js';
export { redisServerBin } from './server-processes.js';
