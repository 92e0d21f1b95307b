import { watch, type FSWatcher } from 'node:fs';
import { Logger } from '@nestjs/common';
import { errorCode } from './secret-file-reader.js';

export interface RotationWatcherOptions {
  readonly directories: readonly string[];
  readonly watch: boolean;
  readonly pollIntervalMs: number;
  readonly debounceMs: number;
  /** Re-reads the secrets; must not throw. */
  readonly onChange: () => Promise<void>;
}

/**
 * Triggers a re-read when a secret file may have changed. It watches DIRECTORIES: Kubernetes
 * replaces files by renaming the `..data` symlink, after which a watch on the file itself is attached
 * to a deleted inode and never fires again. A poll timer backs it up, because fs events are not
 * delivered for bind-mounted files edited on the host or on network file systems. Timers are
 * unref'd and watchers non-persistent: rotation never keeps the process alive.
 */
export class SecretRotationWatcher {
  readonly #logger = new Logger('SecretsModule');
  readonly #watchers: FSWatcher[] = [];
  #pollTimer: NodeJS.Timeout | undefined;
  #debounceTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly options: RotationWatcherOptions) {}

  start(): void {
    if (this.options.watch) {
      for (const directory of this.options.directories) this.#watchDirectory(directory);
    }
    if (this.options.pollIntervalMs > 0) {
      this.#pollTimer = setInterval(() => void this.options.onChange(), this.options.pollIntervalMs);
      this.#pollTimer.unref();
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const watcher of this.#watchers.splice(0)) watcher.close();
    clearInterval(this.#pollTimer);
    clearTimeout(this.#debounceTimer);
  }

  #watchDirectory(directory: string): void {
    try {
      const watcher = watch(directory, { persistent: false }, () => this.#schedule());
      watcher.on('error', (error) => {
        this.#logger.warn(
          `Stopped watching ${directory} (${errorCode(error)}); polling continues if enabled.`,
        );
        watcher.close();
      });
      this.#watchers.push(watcher);
    } catch (error) {
      this.#logger.warn(`Cannot watch ${directory} (${errorCode(error)}); relying on polling.`);
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    clearTimeout(this.#debounceTimer);
    this.#debounceTimer = setTimeout(() => void this.options.onChange(), this.options.debounceMs);
    this.#debounceTimer.unref();
  }
}
