/**
 * Applies the content rules to raw bytes: exactly one trailing `\n` or `\r\n` is removed (what `echo`
 * adds), nothing else, so spaces in a password survive. Binary secrets keep every byte.
 * Returns `undefined` when nothing is left: an empty secret counts as missing.
 */
export function toSecretBytes(raw: Buffer, encoding: 'utf8' | 'buffer'): Buffer | undefined {
  let end = raw.length;
  if (encoding === 'utf8' && end > 0 && raw[end - 1] === 0x0a) {
    end -= 1;
    if (end > 0 && raw[end - 1] === 0x0d) end -= 1;
  }
  return end === 0 ? undefined : raw.subarray(0, end);
}

/**
 * Removes every occurrence of `value` from a message written by application code (a validator's
 * rule text), and drops the message entirely if it still shares a run of 8+ characters with the
 * value: a partial echo is a leak too.
 */
export function scrubMessage(message: string, value: string): string | undefined {
  if (value.length === 0) return message;
  const scrubbed = message.split(value).join('[redacted]');
  const window = Math.min(8, value.length);
  if (scrubbed.length >= window) {
    for (let i = 0; i + window <= value.length; i++) {
      if (scrubbed.includes(value.slice(i, i + window))) return undefined;
    }
  }
  return scrubbed;
}
