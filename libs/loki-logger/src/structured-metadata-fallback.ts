import type { StructuredMetadataMode } from './loki-logger-options.interface.js';

/**
 * Whether pushes carry structured metadata (`request_id`, `user_id`, `trace_id`), and the Loki 2.x
 * fallback of `structuredMetadata: 'auto'`: Loki 2.x (or 3.x with a pre-v13 schema) refuses
 * structured metadata and would drop every line, so on such a 400 the shipper stops sending it (the
 * ids are in the JSON line anyway) and re-sends the batch. Loki 3 and 2.9 name the feature in the
 * 400; older 2.x JSON decoders only complain that an entry is not a 2-element array, so any 400 to a
 * push with metadata before Loki has accepted one counts too (a genuine bad request then costs one
 * extra push without metadata, and is dropped).
 */
export class StructuredMetadataFallback {
  private on: boolean;
  /** Loki took a push carrying structured metadata: a later 400 is about something else. */
  private accepted = false;

  constructor(private readonly mode: StructuredMetadataMode) {
    this.on = mode !== 'never';
  }

  /** Whether metadata is sent now (false after the fallback). */
  get enabled(): boolean {
    return this.on;
  }

  /** Loki accepted a push; `hadMetadata` when it carried metadata. */
  onAccepted(hadMetadata: boolean): void {
    if (hadMetadata) this.accepted = true;
  }

  /**
   * Loki answered 400 to a push: `true` when this is the refusal of structured metadata, in which
   * case metadata is now off and the batch must be re-sent without it.
   */
  fallsBackOn(status: number, body: string, hadMetadata: boolean): boolean {
    if (status !== 400 || !hadMetadata || this.mode !== 'auto') return false;
    if (!/structured.?metadata/i.test(body) && this.accepted) return false;
    this.on = false;
    return true;
  }
}
