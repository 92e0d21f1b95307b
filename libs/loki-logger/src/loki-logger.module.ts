import { Inject, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { WINSTON_MODULE_NEST_PROVIDER, WINSTON_MODULE_PROVIDER } from 'nest-winston';
import type { LokiLoggerModuleOptions } from './loki-logger-options.interface.js';
import { resolveLokiLoggerOptions, type ResolvedLokiLoggerOptions } from './loki-logger-options.resolver.js';
import { LOKI_LOGGER_MODULE_OPTIONS, LOKI_LOGGER_RESOLVED_OPTIONS } from './loki-logger.constants.js';
import { LokiLoggerConfigurableModule } from './loki-logger.module-definition.js';
import { LokiLogger } from './loki-logger.service.js';
import { LokiHealthIndicator } from './loki-logger-health.indicator.js';
import { RequestContextMiddleware } from './request-context.middleware.js';

/**
 * Structured JSON logging with request context, secret redaction and optional Loki shipping.
 *
 * ```ts
 * LokiLoggerModule.forRoot({ service: 'orders', isGlobal: true })
 * // main.ts
 * const app = await NestFactory.create(AppModule, { bufferLogs: true });
 * app.useLogger(app.get(LokiLogger));
 * ```
 */
@Module({
  providers: [
    {
      provide: LOKI_LOGGER_RESOLVED_OPTIONS,
      useFactory: (options: LokiLoggerModuleOptions) => resolveLokiLoggerOptions(options),
      inject: [LOKI_LOGGER_MODULE_OPTIONS],
    },
    LokiLogger,
    RequestContextMiddleware,
    HealthIndicatorService,
    LokiHealthIndicator,
    // nest-winston's tokens, so code written for nest-winston keeps working.
    {
      provide: WINSTON_MODULE_PROVIDER,
      useFactory: (logger: LokiLogger) => logger.winston,
      inject: [LokiLogger],
    },
    { provide: WINSTON_MODULE_NEST_PROVIDER, useExisting: LokiLogger },
  ],
  exports: [
    LokiLogger,
    RequestContextMiddleware,
    LokiHealthIndicator,
    WINSTON_MODULE_PROVIDER,
    WINSTON_MODULE_NEST_PROVIDER,
  ],
})
export class LokiLoggerModule extends LokiLoggerConfigurableModule implements NestModule {
  constructor(@Inject(LOKI_LOGGER_RESOLVED_OPTIONS) private readonly options: ResolvedLokiLoggerOptions) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    if (!this.options.requestContext.enabled) return;
    consumer.apply(RequestContextMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
