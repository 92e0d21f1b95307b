/** The series of one Prometheus text scrape: `name{labels}` → value (comments and blanks skipped). */
export function parsePrometheusText(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const cut = line.lastIndexOf(' ');
    series.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return series;
}

/** The series of one scrape of `registry`. */
export async function scrape(registry: { metrics(): Promise<string> }): Promise<Map<string, number>> {
  return parsePrometheusText(await registry.metrics());
}

/** The keys of the series whose name starts with `prefix`. */
export function seriesMatching(series: Map<string, number>, prefix: string): string[] {
  return [...series.keys()].filter((key) => key.startsWith(prefix));
}
