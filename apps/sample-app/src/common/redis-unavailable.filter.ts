// The app's own filter is gone: app.module registers the lib's RedisUnavailableFilter. This
// re-export only serves main.ts's session middleware until it imports REDIS_UNAVAILABLE_BODY itself.
export { REDIS_UNAVAILABLE_BODY as RETRYABLE_BODY } from '@bastion/redis-sentinel';
