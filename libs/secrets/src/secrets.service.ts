import { inspect } from 'node:util';
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { SECRET_STORE } from './secrets.constants.js';
import type { SecretEvent } from './secret-event.interface.js';
import type { SecretRedactionSource } from './secret-redaction-source.js';
import { SecretRotationWatcher } from './secret-rotation-watcher.js';
import type { SecretSource } from './secret-source.js';
import type { SecretStatus } from './secret-status.interface.js';
import { SecretStore } from './secret-store.js';
import type { SecretsStats } from './secrets-stats.interface.js';

/**
 * Typed access to the declared secrets. Type it with your names for checked keys:
 * `SecretsService<'redis_password' | 'session_secret'>` (see `defineSecrets` / `SecretName`).
 *
 * Printing the service (`toString`, `JSON.stringify`, `util.inspect`) shows names and sources only.
 * It is also the `SecretRedactionSource` of the application (`SECRET_REDACTION_SOURCE`).
 */
@Injectable()
export class SecretsService<TName extends string = string>
  implements SecretRedactionSource, OnModuleInit, OnApplicationShutdown
{
  #watcher: SecretRotationWatcher | undefined;

  constructor(@Inject(SECRET_STORE) private readonly store: SecretStore) {}

  /**
   * The value, or `undefined` for an optional secret that was not found. Throws `SecretNotDeclaredError`
   * for an undeclared name (typos fail loudly).
   */
  get(name: TName): string | undefined {
    return this.store.get(name);
  }

  /**
   * The value; throws `SecretNotAvailableError` when it was not found at boot (listing where it looked
   * and how to supply it, never a value), `SecretNotDeclaredError` for an undeclared name.
   */
  getOrThrow(name: TName): string {
    const value = this.store.get(name);
    if (value === undefined) throw this.store.notAvailableError(name);
    return value;
  }

  /**
   * The bytes (a fresh copy: zero-fill it with `buf.fill(0)` when done), for binary secrets and for
   * callers that want memory they can wipe: JS strings cannot be erased.
   */
  getBuffer(name: TName): Buffer | undefined {
    return this.store.getBuffer(name);
  }

  /**
   * The declaration's `parse` result (e.g. a parsed JSON document), or `undefined`. The type argument
   * is the caller's claim, as with `ConfigService.get<T>()`.
   */
  getParsed<T = unknown>(name: TName): T | undefined {
    return this.store.getParsed(name) as T | undefined;
  }

  /** The bytes (a fresh copy); throws like `getOrThrow()`. */
  getBufferOrThrow(name: TName): Buffer {
    const value = this.store.getBuffer(name);
    if (value === undefined) throw this.store.notAvailableError(name);
    return value;
  }

  has(name: TName): boolean {
    return this.store.has(name);
  }

  /** Where the value came from (`directory`, `env-file`, `env`), or `undefined` if not loaded. */
  source(name: TName): SecretSource | undefined {
    return this.store.source(name);
  }

  /** Status of one secret (loaded, source, generation, stale), without its value. */
  status(name: TName): SecretStatus {
    return this.store.statusOf(name);
  }

  /** Status of every declared secret, without values. */
  describe(): SecretStatus[] {
    return this.store.describe();
  }

  /** Load and rotation counters, overall and per name (as values, never keys); never a value. */
  stats(): SecretsStats {
    return this.store.stats();
  }

  /** 1 after boot, +1 for every rotation of any secret: compare it to know when to reconnect. */
  get generation(): number {
    return this.store.generation;
  }

  /** Rotation events (`rotated`, `rotation-failed`), carrying names, never values. */
  get events$(): Observable<SecretEvent> {
    return this.store.events$;
  }

  /** Re-reads the file-backed secrets now (e.g. on SIGHUP), whether or not rotation is on. */
  reload(): Promise<void> {
    return this.store.reload();
  }

  /** @see SecretRedactionSource.values */
  values(): readonly string[] {
    return this.store.redactionValues();
  }

  /** @see SecretRedactionSource.subscribe */
  subscribe(listener: () => void): () => void {
    return this.store.subscribe(listener);
  }

  onModuleInit(): void {
    const rotation = this.store.options.rotation;
    if (!rotation) return;
    this.#watcher = new SecretRotationWatcher({
      ...rotation,
      directories: this.store.watchedDirectories(),
      onChange: () => this.store.reload(),
    });
    this.#watcher.start();
  }

  onApplicationShutdown(): void {
    this.#watcher?.stop();
    this.store.close();
  }

  toString(): string {
    return `SecretsService(${this.describe()
      .map((s) => `${s.name}: ${s.loaded ? s.source : 'not loaded'}`)
      .join(', ')})`;
  }

  toJSON(): { secrets: SecretStatus[]; generation: number } {
    return this.store.toJSON();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
