import { Controller, Get, Header, Inject } from '@nestjs/common';
import { Registry } from 'prom-client';

/**
 * `GET /metrics` for Prometheus: the libs' metrics (secrets, Redis, the Loki shipper) and Node's
 * process metrics. Collected when scraped; not in the request log.
 */
@Controller('metrics')
export class MetricsController {
  // Explicit token: DI keeps working in builds without decorator metadata.
  constructor(@Inject(Registry) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
