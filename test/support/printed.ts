import { inspect } from 'node:util';

/**
 * Everything a value can print: `util.inspect()` (hidden fields and getters too) and
 * `JSON.stringify()`. The no-leak specs search it for every credential they set.
 */
export function printed(value: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(value) ?? '';
  } catch (err) {
    json = `JSON.stringify threw ${(err as Error).message}`;
  }
  return `${inspect(value, { depth: Infinity, showHidden: true, getters: true })}\n${json}`;
}
