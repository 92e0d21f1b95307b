import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, register, type Registry } from 'prom-client';
import { SECRETS_METRICS_OPTIONS, type SecretsMetricsOptions } from './secrets-metrics.module-definition.js';
import type { SecretsStats } from './secrets-stats.interface.js';
import { SecretsService } from './secrets.service.js';

/**
 * The secrets' Prometheus metrics, read from `SecretsService.stats()` when scraped: nothing is
 * counted on the way, so they cost nothing between scrapes. Label `secret` is the declared name
 * (a handful per app), never a value. Registered at module init, removed at module destroy.
 */
@Injectable()
export class SecretsMetrics implements OnModuleInit, OnModuleDestroy {
  readonly #secrets: SecretsService;
  readonly #registry: Registry;
  #names: string[] = [];

  constructor(
    @Inject(SecretsService) secrets: SecretsService,
    @Inject(SECRETS_METRICS_OPTIONS) options: SecretsMetricsOptions,
  ) {
    this.#secrets = secrets;
    this.#registry = options.registry ?? register;
  }

  onModuleInit(): void {
    const stats = (): SecretsStats => this.#secrets.stats();
    const registers = [this.#registry];
    const metrics = [
      new Counter({
        name: 'bastion_secrets_loads_total',
        help: 'Read passes over the declared secrets: 1 at boot, +1 per re-read (file event, poll, reload()).',
        registers,
        collect() {
          this.reset();
          this.inc(stats().loads);
        },
      }),
      new Counter({
        name: 'bastion_secrets_rotations_total',
        help: 'Changed, valid contents swapped in, per secret.',
        labelNames: ['secret'],
        registers,
        collect() {
          this.reset();
          for (const s of stats().secrets) this.inc({ secret: s.name }, s.rotations);
        },
      }),
      new Counter({
        name: 'bastion_secrets_load_errors_total',
        help: 'Changed contents rejected on re-read (gone, empty or invalid; the previous value stayed), per secret.',
        labelNames: ['secret'],
        registers,
        collect() {
          this.reset();
          for (const s of stats().secrets) this.inc({ secret: s.name }, s.rotationFailures);
        },
      }),
      new Gauge({
        name: 'bastion_secrets_loaded',
        help: '1 when the secret has a value, 0 when an optional one was not found.',
        labelNames: ['secret'],
        registers,
        collect() {
          this.reset();
          for (const s of stats().secrets) this.set({ secret: s.name }, s.loaded ? 1 : 0);
        },
      }),
      new Gauge({
        name: 'bastion_secrets_age_seconds',
        help: 'Seconds since the value in use was read (boot load or last rotation), per secret.',
        labelNames: ['secret'],
        registers,
        collect() {
          this.reset();
          const now = Date.now();
          for (const s of stats().secrets)
            if (s.loadedAt !== undefined) this.set({ secret: s.name }, (now - s.loadedAt) / 1000);
        },
      }),
    ];
    this.#names = metrics.map((m) => (m as unknown as { name: string }).name);
  }

  onModuleDestroy(): void {
    for (const name of this.#names) this.#registry.removeSingleMetric(name);
    this.#names = [];
  }
}
