import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { LokiLogger, RequestContextMiddleware } from '@bastion/loki-logger';
import { getRedisToken } from '@bastion/redis-sentinel';
import { SecretsService } from '@bastion/secrets';
import session from 'express-session';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { appConfig, type AppConfig } from './config/app.config.js';
import type { AppSecret } from './config/app-secrets.js';
import { RedisSessionStore } from './session/redis-session.store.js';
import { RETRYABLE_BODY } from './common/redis-unavailable.filter.js';
import type { NextFunction, Request, Response } from 'express';

/** Upper bound of a graceful shutdown; past it the process exits non-zero rather than hang. */
const SHUTDOWN_DEADLINE_MS = 20_000;

async function bootstrap(): Promise<void> {
  // Imported here so that a configuration error is reported below as one clear message.
  const { AppModule } = await import('./app.module.js');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    bufferLogs: true,
    // A boot error reaches the catch below, which prints it once and without a stack; the
    // buffered boot logs are flushed into the app's own logger below once it is attached.
    abortOnError: false,
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
  // The request context first, ahead of the body parser and the session: a request that these
  // reject (bad JSON, store down) still gets its X-Request-Id and its completion log line.
  const requestContext = app.get(RequestContextMiddleware);
  app.use(requestContext.use.bind(requestContext));
  const sessions = session({
    store: new RedisSessionStore(app.get<Redis>(getRedisToken())),
    secret: sessionSecret,
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    rolling: false,
    // Secure whenever the request came over TLS (directly, or through a proxy trusted by TRUST_PROXY).
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: 86_400_000 },
  });
  // A session store that cannot reach Redis (failover) is a retryable 503, not express's 500 page.
  app.use((req: Request, res: Response, next: NextFunction) =>
    sessions(req, res, (err?: unknown) => {
      if (err === undefined) return next();
      res.setHeader('Retry-After', '1');
      res.status(503).json(RETRYABLE_BODY);
    }),
  );

  await app.listen(config.port, config.host);
  logger.log({ message: 'listening', url: await app.getUrl() }, 'Bootstrap');

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log({ message: 'shutting down', signal }, 'Bootstrap');
    setTimeout(() => {
      process.stderr.write(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting\n`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

try {
  await bootstrap();
} catch (err) {
  // Boot errors of this app and its modules are written to be read as they are: no stack needed.
  const e = err as Error;
  process.stderr.write(`sample-app failed to start: ${e.name}: ${e.message}\n`);
  process.exit(1);
}
