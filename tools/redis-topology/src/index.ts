export { freePort } from './free-port.js';
export { pollUntil } from './poll-until.js';
export {
  RedisTopology,
  redisServerBin,
  type NodeRole,
  type RedisNode,
  type TopologyOptions,
} from './redis-topology.js';
