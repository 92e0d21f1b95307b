import { BadRequestException } from '@nestjs/common';

/** The JSON body as an object, or a 400 that says what is wrong. */
export function requireObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestException('request body must be a JSON object (Content-Type: application/json)');
  }
  return body as Record<string, unknown>;
}

export function requireString(body: unknown, field: string, opts: { maxLength: number }): string {
  const value = requireObject(body)[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadRequestException(`"${field}" is required and must be a non-empty string`);
  }
  if (value.length > opts.maxLength) {
    throw new BadRequestException(`"${field}" must be at most ${opts.maxLength} characters`);
  }
  return value;
}

export function optionalPositiveInt(body: unknown, field: string, max: number): number | undefined {
  const value = requireObject(body)[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new BadRequestException(`"${field}" must be an integer between 1 and ${max}`);
  }
  return value;
}
