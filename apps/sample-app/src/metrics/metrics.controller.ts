import { Controller, Get, Header } from '@nestjs/common';
import { metricsRegistry } from './metrics-registry.js';

/**
 * `GET /metrics` for Prometheus: the libs' metrics (secrets, Redis, the Loki shipper) and Node's
 * process metrics. Collected when scraped; not in the request log.
 */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', metricsRegistry.contentType)
  metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
