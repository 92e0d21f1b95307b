import { dirname } from 'node:path';
import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { SecretEvent } from './secret-event.interface.js';
import { howToProvide, readFileSource, resolveSecret } from './secret-resolver.js';
import type { SecretSource } from './secret-source.js';
import type { SecretStatus } from './secret-status.interface.js';
import { SecretRedactionRegistry } from './secret-redaction-registry.js';
import { SecretEncodingError, SecretNotDeclaredError } from './secrets.errors.js';
import { SecretNotAvailableError, SecretsLoadError, type SecretLoadProblem } from './secrets-load.error.js';
import type { ResolvedSecret, ResolvedSecretsOptions } from './secrets-options.resolver.js';
import type { SecretsStats } from './secrets-stats.interface.js';

interface Entry {
  readonly secret: ResolvedSecret;
  bytes: Buffer | undefined;
  text: string | undefined;
  parsed: unknown;
  source: SecretSource | undefined;
  generation: number;
  /** Why the latest rotation attempt failed; cleared when the file is usable again. */
  rotationError: string | undefined;
  /** Where boot looked for an optional secret it did not find, for `getOrThrow()`'s error. */
  notFound: SecretLoadProblem | undefined;
  /** Counters for `stats()`. */
  rotations: number;
  rotationFailures: number;
  lastRotatedAt: number | undefined;
  /** When the value in use was read (boot load or last rotation), epoch ms. */
  loadedAt: number | undefined;
}

/**
 * Holds the loaded values and re-reads them on rotation; every value it loads goes into its
 * `SecretRedactionRegistry`. Values live in private fields only and every printable surface
 * (`toString`, `toJSON`, `util.inspect`) shows names and sources, so a stray log of the store, the
 * service or the config namespace never prints a secret. Internal: apps use `SecretsService`.
 */
export class SecretStore {
  readonly #entries: Map<string, Entry>;
  readonly #logger = new Logger('SecretsModule');
  readonly #events = new Subject<SecretEvent>();
  readonly #redaction = new SecretRedactionRegistry();
  #generation = 1;
  /** Read passes over the secrets: 1 at boot, +1 per `reload()` pass (fs event, poll, manual). */
  #loads = 0;
  #reloading: Promise<void> | undefined;
  #reloadAgain = false;

  private constructor(readonly options: ResolvedSecretsOptions) {
    this.#entries = new Map(
      options.secrets.map((secret) => [
        secret.name,
        {
          secret,
          bytes: undefined,
          text: undefined,
          parsed: undefined,
          source: undefined,
          generation: 0,
          rotationError: undefined,
          notFound: undefined,
          rotations: 0,
          rotationFailures: 0,
          lastRotatedAt: undefined,
          loadedAt: undefined,
        },
      ]),
    );
  }

  /**
   * Resolves every declared secret. Throws one `SecretsLoadError` listing every missing required
   * secret and every invalid secret (optional ones too: a value that is present must be usable).
   */
  static async load(
    options: ResolvedSecretsOptions,
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<SecretStore> {
    const store = new SecretStore(options);
    store.#loads = 1;
    const results = await Promise.all(options.secrets.map((secret) => resolveSecret(secret, options, env)));
    const problems: SecretLoadProblem[] = [];
    const fromEnvInProduction: string[] = [];
    const ignoredEnv: string[] = [];
    results.forEach((result, index) => {
      const secret = options.secrets[index]!;
      if (result.kind === 'loaded') {
        store.#set(store.#entries.get(secret.name)!, result.bytes, result.parsed, result.source);
        if (result.envInProduction) fromEnvInProduction.push(secret.name);
        return;
      }
      if (result.kind === 'invalid') {
        problems.push({
          name: secret.name,
          kind: 'invalid',
          reason: result.reason,
          lookedAt: result.lookedAt,
        });
      } else {
        const problem: SecretLoadProblem = {
          name: secret.name,
          kind: 'missing',
          lookedAt: result.lookedAt,
          fix: howToProvide(secret, options),
        };
        if (secret.required) problems.push(problem);
        else store.#entries.get(secret.name)!.notFound = problem;
      }
      if (result.lookedAt.some((place) => place.includes('(set, but ignored'))) ignoredEnv.push(secret.name);
    });
    if (problems.length > 0) throw new SecretsLoadError(problems);
    if (fromEnvInProduction.length > 0) {
      // Once per load, not per read: the point is to be seen, not to flood.
      store.#logger.warn(
        `Plain environment variables supply ${fromEnvInProduction.map((n) => `"${n}"`).join(', ')} while ` +
          'NODE_ENV=production (allowEnvFallback is on). Env values leak into child processes and ' +
          '/proc/<pid>/environ; mount them as files instead.',
      );
    }
    if (ignoredEnv.length > 0) {
      store.#logger.warn(
        `Optional ${ignoredEnv.map((n) => `"${n}"`).join(', ')} not loaded: the env var is set but the plain-env ` +
          'fallback is off when NODE_ENV=production (use a file, <ENV>_FILE or allowEnvFallback: true).',
      );
    }
    store.#logger.log(
      `Loaded secrets (name and source) — ${store.describe().map(describeForLog).join(', ') || 'none declared'}`,
    );
    return store;
  }

  /** The global generation: 1 after boot, +1 for every rotation of any secret. */
  get generation(): number {
    return this.#generation;
  }

  get events$(): Observable<SecretEvent> {
    return this.#events.asObservable();
  }

  has(name: string): boolean {
    return this.#entry(name).bytes !== undefined;
  }

  get(name: string): string | undefined {
    const entry = this.#entry(name);
    if (entry.secret.encoding === 'buffer') {
      throw new SecretEncodingError(name);
    }
    return entry.text;
  }

  /** The result of the declaration's `parse`, or `undefined` (not found, or no parser). */
  getParsed(name: string): unknown {
    return this.#entry(name).parsed;
  }

  /** A copy, so a caller that zero-fills it after use does not wipe the store. */
  getBuffer(name: string): Buffer | undefined {
    const bytes = this.#entry(name).bytes;
    return bytes && Buffer.from(bytes);
  }

  source(name: string): SecretSource | undefined {
    return this.#entry(name).source;
  }

  /** The error for reading a secret that is not loaded: where boot looked and how to supply it. */
  notAvailableError(name: string): SecretNotAvailableError {
    const entry = this.#entry(name);
    return new SecretNotAvailableError(
      entry.notFound ?? {
        name,
        kind: 'missing',
        lookedAt: [],
        fix: howToProvide(entry.secret, this.options),
      },
    );
  }

  statusOf(name: string): SecretStatus {
    return toStatus(this.#entry(name));
  }

  describe(): SecretStatus[] {
    return [...this.#entries.values()].map(toStatus);
  }

  /** Directories that hold the file-backed secrets (what rotation watches). */
  watchedDirectories(): string[] {
    const dirs = new Set<string>();
    for (const entry of this.#entries.values()) {
      if (entry.source && entry.source.type !== 'env') dirs.add(dirname(entry.source.location));
    }
    return [...dirs];
  }

  redactionValues(): readonly string[] {
    return this.#redaction.values();
  }

  subscribe(listener: () => void): () => void {
    return this.#redaction.subscribe(listener);
  }

  /** Load and rotation counters, per name too; never a value. */
  stats(): SecretsStats {
    const secrets = [...this.#entries.values()].map((entry) => ({
      name: entry.secret.name,
      loaded: entry.bytes !== undefined,
      rotations: entry.rotations,
      rotationFailures: entry.rotationFailures,
      lastRotatedAt: entry.lastRotatedAt,
      loadedAt: entry.loadedAt,
    }));
    return {
      loads: this.#loads,
      rotations: secrets.reduce((sum, s) => sum + s.rotations, 0),
      rotationFailures: secrets.reduce((sum, s) => sum + s.rotationFailures, 0),
      secrets,
    };
  }

  /**
   * Re-reads every file-backed secret from the place it was loaded from. Changed and valid content is
   * swapped in atomically (one assignment; readers see the old or the new value, never a mix); unusable
   * content keeps the old value and is reported once per distinct problem. Concurrent calls coalesce.
   */
  reload(): Promise<void> {
    if (this.#reloading) {
      this.#reloadAgain = true;
      return this.#reloading;
    }
    this.#reloading = (async () => {
      do {
        this.#reloadAgain = false;
        this.#loads += 1;
        await Promise.all([...this.#entries.values()].map((entry) => this.#reloadEntry(entry)));
      } while (this.#reloadAgain);
    })().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  /** Ends the event stream (on application shutdown). */
  close(): void {
    this.#events.complete();
  }

  async #reloadEntry(entry: Entry): Promise<void> {
    const source = entry.source;
    if (!source || source.type === 'env') return;
    const read = await readFileSource(entry.secret, source.location);
    if (read.kind === 'found') {
      if (entry.rotationError !== undefined) {
        entry.rotationError = undefined;
        this.#logger.log(`Secret "${entry.secret.name}" is readable again.`);
      }
      if (entry.bytes && read.bytes.equals(entry.bytes)) return;
      const old = entry.bytes;
      this.#set(entry, read.bytes, read.parsed, source);
      old?.fill(0);
      this.#generation += 1;
      entry.rotations += 1;
      entry.lastRotatedAt = entry.loadedAt;
      this.#logger.log(`Secret "${entry.secret.name}" rotated (generation ${entry.generation}).`);
      this.#events.next({ type: 'rotated', name: entry.secret.name, generation: entry.generation, source });
      return;
    }
    const reason =
      read.kind === 'invalid'
        ? `${source.location} ${read.reason}`
        : `${source.location} is ${read.kind === 'empty' ? 'empty' : 'gone'}`;
    if (entry.rotationError === reason) return;
    entry.rotationError = reason;
    entry.rotationFailures += 1;
    this.#logger.warn(
      `Secret "${entry.secret.name}" was not rotated, the previous value stays in use: ${reason}.`,
    );
    this.#events.next({ type: 'rotation-failed', name: entry.secret.name, reason });
  }

  #set(entry: Entry, bytes: Buffer, parsed: unknown, source: SecretSource): void {
    const text = entry.secret.encoding === 'utf8' ? bytes.toString('utf8') : undefined;
    entry.bytes = bytes;
    entry.text = text;
    entry.parsed = parsed;
    entry.source = source;
    entry.generation += 1;
    entry.loadedAt = Date.now();
    this.#redaction.add(text ?? bytes.toString('utf8'), parsed);
  }

  #entry(name: string): Entry {
    const entry = this.#entries.get(name);
    if (entry) return entry;
    // Code that passes a value where a name belongs must not get that value echoed back.
    const isValue = typeof name === 'string' && this.#redaction.has(name);
    throw new SecretNotDeclaredError(isValue ? undefined : String(name), [...this.#entries.keys()]);
  }

  toString(): string {
    return `SecretStore(${this.describe().map(describeForLog).join(', ')})`;
  }

  toJSON(): { secrets: SecretStatus[]; generation: number } {
    return { secrets: this.describe(), generation: this.#generation };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function toStatus(entry: Entry): SecretStatus {
  return {
    name: entry.secret.name,
    required: entry.secret.required,
    loaded: entry.bytes !== undefined,
    ...(entry.source && { source: entry.source.type, location: entry.source.location }),
    generation: entry.generation,
    stale: entry.rotationError !== undefined,
  };
}

function describeForLog(status: SecretStatus): string {
  return `${status.name} (${status.loaded ? status.source : status.required ? 'MISSING' : 'not set'})`;
}
