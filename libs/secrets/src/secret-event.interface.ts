import type { SecretSource } from './secret-source.js';

/** A file-backed secret changed and the new content passed validation. Carries the name, never the value. */
export interface SecretRotatedEvent {
  readonly type: 'rotated';
  readonly name: string;
  /** The secret's own generation: 1 at boot, +1 per rotation. */
  readonly generation: number;
  readonly source: SecretSource;
}

/** A file-backed secret changed but the new content is unusable; the old value stays in use. */
export interface SecretRotationFailedEvent {
  readonly type: 'rotation-failed';
  readonly name: string;
  /** What is wrong (missing, oversize, failed validation...), never the content. */
  readonly reason: string;
}

export type SecretEvent = SecretRotatedEvent | SecretRotationFailedEvent;
