import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DEFAULT_HEALTH_FRESHNESS_MS, DEFAULT_HEALTH_TIMEOUT_MS, SECRET_STORE } from './secrets.constants.js';
import { toSecretBytes } from './secret-content.js';
import { readSecretFile } from './secret-file-reader.js';
import type { SecretSourceType } from './secret-source.js';
import type { SecretStatus } from './secret-status.interface.js';
import { SecretStore } from './secret-store.js';

/** Options of `SecretsHealthIndicator.isHealthy()`. */
export interface SecretsHealthOptions {
  /**
   * Answer within this many ms, whatever the file system does (a hung network mount): `down` when
   * the files did not answer in time. Default: `500`, under the 1 s default timeout of a Kubernetes
   * probe, with room for the other indicators.
   */
  readonly timeoutMs?: number;
  /**
   * Concurrent calls with the same `timeoutMs` always share one read of the files. With
   * `freshnessMs` > 0 its outcome is also reused by later calls for that many ms after the read
   * started, unless a secret was rotated since: a flood of probes then reads the files at most
   * `1000 / freshnessMs` times a second, and a deleted or emptied file is reported within
   * `freshnessMs` + `timeoutMs`. Default: `0`, every call reads the files, so a file deleted
   * between two calls is reported by the second; a busy readiness endpoint can pass e.g. `250`.
   * The secrets' own state (loaded, stale) is never reused.
   */
  readonly freshnessMs?: number;
}

/** Whether each file answered readable, or `'timeout'`; and when and for what that read started. */
interface FileRead {
  readonly timeoutMs: number;
  readonly generation: number;
  readonly startedAt: number;
  running: boolean;
  readonly outcome: Promise<Array<{ status: SecretStatus; readable: boolean }> | 'timeout'>;
}

/**
 * Terminus indicator for the declared secrets. `down` when a required secret's file is no longer
 * readable (deleted, emptied, permissions, oversize) or the check overruns its deadline; `degraded`
 * when only optional secrets are unreadable or a rotation was rejected (the old value is still in use).
 * Details name secrets and source types only, with the names as values (never as keys):
 * `{ sources: { directory: ['redis_password'], env: ['api_token'] }, unreadable?: [...], stale?: [...] }`.
 */
@Injectable()
export class SecretsHealthIndicator {
  /** The last read of the files (see `SecretsHealthOptions.freshnessMs`). */
  private lastRead: FileRead | undefined;

  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(SECRET_STORE) private readonly store: SecretStore,
  ) {}

  async isHealthy<const Key extends string = 'secrets'>(
    key: Key = 'secrets' as Key,
    options: SecretsHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const session = this.health.check(key);
    const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    const statuses = this.store.describe();
    // Keyed by source type, names as values: a logged health result goes through log redaction, whose
    // key rule masks the value of any key that looks sensitive, and secret names do (`redis_password`).
    const sources: Partial<Record<SecretSourceType | 'not loaded', string[]>> = {};
    for (const s of statuses) (sources[s.loaded ? s.source! : 'not loaded'] ??= []).push(s.name);
    const outcome = await this.sharedRead(
      statuses,
      timeoutMs,
      options.freshnessMs ?? DEFAULT_HEALTH_FRESHNESS_MS,
    );
    if (outcome === 'timeout') {
      return session.down({ message: `secret files did not answer within ${timeoutMs} ms`, sources });
    }
    const unreadable = outcome.filter((o) => !o.readable).map((o) => o.status);
    const stale = statuses.filter((s) => s.stale).map((s) => s.name);
    const details = {
      sources,
      ...(unreadable.length > 0 && { unreadable: unreadable.map((s) => s.name) }),
      ...(stale.length > 0 && { stale }),
    };
    if (unreadable.some((s) => s.required)) return session.down(details);
    if (unreadable.length > 0 || stale.length > 0) return session.degraded(details);
    return session.up(details);
  }

  /** The read in flight or, within `freshnessMs` of its start and with no rotation since, the last one. */
  private sharedRead(statuses: SecretStatus[], timeoutMs: number, freshnessMs: number): FileRead['outcome'] {
    const now = performance.now();
    const generation = this.store.generation;
    const last = this.lastRead;
    if (
      last?.timeoutMs === timeoutMs &&
      last.generation === generation &&
      (last.running || now - last.startedAt < freshnessMs)
    ) {
      return last.outcome;
    }
    const read: FileRead = {
      timeoutMs,
      generation,
      startedAt: now,
      running: true,
      outcome: this.readFiles(statuses, timeoutMs),
    };
    const ended = (): void => {
      read.running = false;
    };
    read.outcome.then(ended, ended);
    this.lastRead = read;
    return read.outcome;
  }

  /** Reads every loaded secret file once, within `timeoutMs` whatever the file system does. */
  private async readFiles(statuses: SecretStatus[], timeoutMs: number): FileRead['outcome'] {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      timer.unref();
    });
    const checks = Promise.all(
      statuses.map(async (status) => {
        if (!status.loaded || status.source === 'env') return { status, readable: true };
        const { maxBytes, encoding } = this.store.options.secrets.find((s) => s.name === status.name)!;
        const read = await readSecretFile(status.location!, maxBytes);
        // The boot rules: a text file holding only its trailing newline is empty, hence missing.
        const readable = read.kind === 'found' && toSecretBytes(read.bytes, encoding) !== undefined;
        if (read.kind === 'found') read.bytes.fill(0);
        return { status, readable };
      }),
    );
    return Promise.race([checks, deadline]).finally(() => clearTimeout(timer));
  }
}
