import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The app's Prometheus registry: Node's process metrics plus the libs' metrics modules, served on
 * `GET /metrics`. A registry of its own rather than prom-client's global one, so nothing else in
 * the process (a library that registers into the default) shows up unasked.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });
