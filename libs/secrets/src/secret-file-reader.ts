import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Outcome of reading one candidate file. Reasons name the problem, never the content. */
export type SecretFileRead =
  | { readonly kind: 'found'; readonly bytes: Buffer }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly reason: string };

// O_NONBLOCK: opening a FIFO placed where a secret should be must not block boot forever.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Reads a secret file through symlinks (Kubernetes `name -> ..data/name`), accepting regular files
 * only and never more than `maxBytes + 1` bytes. ENOENT/ENOTDIR mean "not here"; every other failure
 * (EACCES, a directory, a device, oversize) is an error, so a broken mount is never mistaken for an
 * absent secret and silently replaced by a fallback.
 */
export async function readSecretFile(path: string, maxBytes: number): Promise<SecretFileRead> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    return fromOpenError(error);
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) return { kind: 'invalid', reason: 'is a directory, not a file' };
    if (!stats.isFile()) return { kind: 'invalid', reason: 'is not a regular file' };
    if (stats.size > maxBytes) return tooLarge(maxBytes);
    // Read to EOF with a hard cap: the size from stat can be stale if the file is being rewritten.
    const scratch = Buffer.alloc(maxBytes + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(scratch, total, scratch.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) {
        scratch.fill(0);
        return tooLarge(maxBytes);
      }
    }
    const bytes = Buffer.from(scratch.subarray(0, total));
    scratch.fill(0);
    return { kind: 'found', bytes };
  } catch (error) {
    return { kind: 'invalid', reason: `cannot be read (${errorCode(error)})` };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function tooLarge(maxBytes: number): SecretFileRead {
  return { kind: 'invalid', reason: `is larger than the ${maxBytes}-byte cap` };
}

function fromOpenError(error: unknown): SecretFileRead {
  const code = errorCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
  if (code === 'EACCES' || code === 'EPERM') return { kind: 'invalid', reason: `is not readable (${code})` };
  if (code === 'EISDIR') return { kind: 'invalid', reason: 'is a directory, not a file' };
  return { kind: 'invalid', reason: `cannot be opened (${code})` };
}

/** The errno code of a file-system error, for messages that must never carry content. */
export function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}
