/**
 * `@bastion/redis-sentinel/bullmq`: BullMQ on the module's clients. A subpath of its own so that the
 * main entry never needs `bullmq` (an optional peer, needed only here).
 */
export { durableEnqueue } from './durable-enqueue.js';
