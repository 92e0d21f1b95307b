/**
 * `@bastion/redis-sentinel/socket.io`: the connections of `@socket.io/redis-adapter`. Imports no
 * Socket.IO package; a subpath of its own to keep the main entry about the module.
 */
export {
  socketIoRedisClients,
  type SocketIoRedisClients,
  type SocketIoRedisClientsOptions,
  type SocketIoRedisClientsStats,
} from './socket-io-redis.clients.js';
