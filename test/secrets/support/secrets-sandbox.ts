import { mkdirSync, mkdtempSync, rmSync, symlinkSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CaptureLogger } from './capture-logger.js';

/** A temp directory for secret files plus env save/restore, torn down by `cleanup()`. */
export class SecretsSandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'bastion-secrets-'));
  readonly dir = join(this.root, 'run-secrets');
  private readonly savedEnv = { ...process.env };

  constructor() {
    mkdirSync(this.dir);
  }

  /** Writes `<dir>/<name>` (or any path under root when `name` contains a slash). */
  file(name: string, content: string | Buffer): string {
    const path = name.includes('/') ? join(this.root, name) : join(this.dir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  }

  env(vars: Record<string, string | undefined>): void {
    for (const [key, value] of Object.entries(vars)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }

  restoreEnv(): void {
    for (const key of Object.keys(process.env)) if (!(key in this.savedEnv)) delete process.env[key];
    Object.assign(process.env, this.savedEnv);
  }

  cleanup(): void {
    this.restoreEnv();
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * A Kubernetes secret volume as the kubelet's AtomicWriter builds it: visible names are symlinks
 * `name -> ..data/name`, `..data` is a symlink to a timestamped dir, and an update writes a new dir
 * then renames `..data_tmp` over `..data` in one step.
 */
export class KubernetesVolume {
  private version = 0;

  constructor(readonly dir: string) {}

  write(files: Record<string, string>): void {
    const stamp = `..2026_11_25_13_00_00.${++this.version}`;
    mkdirSync(join(this.dir, stamp));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.dir, stamp, name), content);
    symlinkSync(stamp, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const name of Object.keys(files)) {
      try {
        symlinkSync(join('..data', name), join(this.dir, name));
      } catch {
        // Already linked by a previous write.
      }
    }
  }
}

/** Boots a Nest application context around `module`, logging into `logger`. */
export async function boot(
  module: DynamicModule,
  logger = new CaptureLogger(),
): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext({ imports: [module] }, { logger, abortOnError: false });
}

/** Awaits a promise that must reject and returns the rejection (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`Rejected with a non-Error: ${String(error)}`, { cause: error });
  }
  await (value as { close?: () => Promise<void> } | undefined)?.close?.();
  throw new Error('Expected a rejection, but the promise resolved');
}

/** The error `fn` throws synchronously (fails the test if it returns). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}
