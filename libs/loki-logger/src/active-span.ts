import { createRequire } from 'node:module';
import type * as OpenTelemetryApi from '@opentelemetry/api';

/** The ids of the OpenTelemetry span active where a line is written. */
export interface ActiveSpanIds {
  readonly traceId: string;
  readonly spanId: string;
}

/** Reads the active span's ids, or `undefined` outside a (valid) span. */
export type ActiveSpanReader = () => ActiveSpanIds | undefined;

/**
 * A reader of the active span, through `@opentelemetry/api` when the app has it installed (an
 * optional peer: it is loaded here, at most once, and only if it resolves); `undefined` otherwise,
 * and lines then carry no span ids. The API finds the SDK the app registered through its global
 * registry, so any installed copy of it sees the same spans.
 */
export function activeSpanReader(): ActiveSpanReader | undefined {
  if (loaded === undefined) {
    try {
      loaded = createRequire(import.meta.url)('@opentelemetry/api') as typeof OpenTelemetryApi;
    } catch {
      loaded = null;
    }
  }
  const api = loaded;
  if (api === null) return undefined;
  return () => {
    const span = api.trace.getActiveSpan();
    if (span === undefined) return undefined;
    const ids = span.spanContext();
    return api.isSpanContextValid(ids) ? ids : undefined;
  };
}

/** `null`: not installed. */
let loaded: typeof OpenTelemetryApi | null | undefined;
