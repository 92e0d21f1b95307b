import type { SecretSourceType } from './secret-source.js';

/** What is known about one declared secret, without its value. Safe to log and to serialize. */
export interface SecretStatus {
  readonly name: string;
  readonly required: boolean;
  readonly loaded: boolean;
  /** Where the value came from; absent when the (optional) secret was not found. */
  readonly source?: SecretSourceType;
  /** The path or env var name behind `source`. */
  readonly location?: string;
  /** 0 when not loaded, 1 after boot, +1 per rotation. */
  readonly generation: number;
  /** The file changed but its new content is unusable, so an older value is still in use. */
  readonly stale: boolean;
}
