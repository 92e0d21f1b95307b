import { scrubMessage } from './secret-content.js';
import type { ResolvedSecret } from './secrets-options.resolver.js';

/**
 * Runs the declaration's validator. Returns `undefined` when valid, else a reason that is safe to
 * print: a thrown error contributes its class name only, a returned rule text is scrubbed of the value.
 */
export function validateSecret(secret: ResolvedSecret, bytes: Buffer): string | undefined {
  if (!secret.validate) return undefined;
  const text = bytes.toString('utf8');
  let result;
  try {
    result = secret.validate(text, Buffer.from(bytes));
  } catch (error) {
    const kind = error instanceof Error ? error.name : typeof error;
    return `failed validation (the validator threw ${kind}; its message is not shown because it may contain the value)`;
  }
  if (result === true || result === undefined) return undefined;
  if (typeof result === 'string') {
    const rule = scrubMessage(result, text);
    return rule === undefined
      ? 'failed validation (the rule text is not shown because it contains part of the value)'
      : `failed validation: ${rule}`;
  }
  return 'failed validation';
}

/** Runs the declaration's parser, if any. A throw is reported by class name only. */
export function parseSecret(
  secret: ResolvedSecret,
  bytes: Buffer,
): { readonly parsed: unknown } | { readonly reason: string } {
  if (!secret.parse) return { parsed: undefined };
  try {
    return { parsed: secret.parse(bytes.toString('utf8'), Buffer.from(bytes)) };
  } catch (error) {
    const kind = error instanceof Error ? error.name : typeof error;
    return {
      reason: `could not be parsed (the parser threw ${kind}; its message is not shown because it may contain the value)`,
    };
  }
}
