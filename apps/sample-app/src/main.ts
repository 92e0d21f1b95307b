import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createBootstrapLogger, LokiLogger, RequestContextMiddleware } from '@bastion/loki-logger';
import { getRedisToken, REDIS_UNAVAILABLE_BODY } from '@bastion/redis-sentinel';
import { SecretsService } from '@bastion/secrets';
import session from 'express-session';
import { randomBytes } from 'node:crypto';
import { AppConfigError, appConfig, type AppConfig } from './config/app.config.js';
import type { AppSecret } from './config/app-secrets.js';
import { RedisSessionStore } from './session/redis-session.store.js';
import type { RedisClient } from './common/redis-clients.js';
import { RedisIoAdapter } from './notifications/redis-io.adapter.js';
import type { NextFunction, Request, Response } from 'express';

/** Upper bound of a graceful shutdown; past it the process exits non-zero rather than hang. */
const SHUTDOWN_DEADLINE_MS = 20_000;

// JSON lines before the app's logger exists. Read leniently from the environment: the configuration
// may be the very thing that fails (an unknown LOG_LEVEL reads as info).
const bootLogger = createBootstrapLogger({
  service: process.env.SERVICE_NAME?.trim() || 'sample-app',
  level: process.env.LOG_LEVEL?.trim().toLowerCase(),
  // Its message lists every problem: no stack needed.
  expectedErrors: [AppConfigError],
});

async function bootstrap(): Promise<void> {
  // Imported here so that an error while loading the app's modules is also reported as JSON below.
  const { AppModule } = await import('./app.module.js');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    logger: bootLogger,
    // Nest's boot lines wait for the app's logger (useLogger + flushLogs below).
    bufferLogs: true,
    // A boot error is rethrown to the catch below instead of process.abort().
    abortOnError: false,
    // ...and Nest does not print its own copy of it (with a stack): bootFailed() flushes the rest.
    autoFlushLogs: false,
    // On SIGTERM, requests arriving (also on kept-alive connections) get 503 + `Connection: close`
    // while the ones in flight complete: without it, a busy keep-alive client keeps the server open.
    return503OnClosing: true,
  });
  app.disable('x-powered-by');
  const logger = app.get(LokiLogger);
  app.useLogger(logger);
  app.flushLogs();
  const config = app.get<AppConfig>(appConfig.KEY);
  const secrets = app.get<SecretsService<AppSecret>>(SecretsService);

  let sessionSecret = secrets.get('session_secret');
  if (!sessionSecret) {
    // Development only (required in production): sessions do not survive a restart then.
    sessionSecret = randomBytes(32).toString('hex');
    logger.warn(
      'session_secret is not set, so this process uses a random one (development only)',
      'Bootstrap',
    );
  }
  if (config.trustProxy !== false) app.set('trust proxy', config.trustProxy);
  // No ETag: every answer here is per-request data or a health report, no client revalidates, and
  // Express would hash each body (SHA-1) to make one.
  app.set('etag', false);
  // The request context first, ahead of the body parser and the session: a request that these
  // reject (bad JSON, store down) still gets its X-Request-Id and its completion log line.
  const requestContext = app.get(RequestContextMiddleware);
  app.use(requestContext.use.bind(requestContext));
  const sessions = session({
    // Our store on the module's client: connect-redis 10 speaks node-redis only (see the store).
    store: new RedisSessionStore(app.get<RedisClient>(getRedisToken())),
    secret: sessionSecret,
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    rolling: false,
    // Secure whenever the request came over TLS (directly, or through a proxy trusted by TRUST_PROXY).
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: 86_400_000 },
  });
  // A session store that cannot reach Redis (failover) is a retryable 503, not express's 500 page.
  // The probes (/health/live, /health/ready) and the Prometheus scrape (/metrics) skip it: they
  // read no session, and express-session would make (and drop) a random session id for each.
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/health/') || req.path === '/metrics') return next();
    return sessions(req, res, (err?: unknown) => {
      if (err === undefined) return next();
      res.setHeader('Retry-After', '1');
      res.status(503).json(REDIS_UNAVAILABLE_BODY);
    });
  });

  // Socket.IO (the notifications gateway) with the Redis adapter on copies of the module's client:
  // set before init(), which creates the gateways' server.
  const io = new RedisIoAdapter(app);
  app.useWebSocketAdapter(io);

  // Registered first, so that "shutting down" is the first line of the shutdown.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log({ message: 'shutting down', signal }, 'Bootstrap');
      // A hook that hangs (a stuck connection) must not hold the pod until its SIGKILL.
      setTimeout(() => {
        logger.fatal(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting`, 'Bootstrap');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
    });
  }
  // Then Nest's: the shutdown hooks (Redis, Loki flush) run, and the process exits 0 (1 if one threw).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });

  // The modules' startup: the Redis clients are ready here, or the boot fails with a typed error.
  await app.init();
  await io.connectToRedis(config.redisStartupTimeoutMs ?? 10_000);
  await app.listen(config.port, config.host);
  logger.log({ message: 'listening', url: await app.getUrl() }, 'Bootstrap');
}

try {
  await bootstrap();
} catch (err) {
  // One JSON line (typed error name; no stack for expected boot errors), then a non-zero exit.
  await bootLogger.bootFailed(err);
  process.exit(1);
}
