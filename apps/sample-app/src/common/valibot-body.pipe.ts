import { BadRequestException, type PipeTransform } from '@nestjs/common';
import * as v from 'valibot';

/**
 * `@Body(new ValibotBodyPipe(schema))`: the JSON body parsed by a valibot schema, or a 400 whose
 * message lists every problem. The schema's messages are the ones clients read.
 */
export class ValibotBodyPipe<S extends v.GenericSchema> implements PipeTransform<unknown, v.InferOutput<S>> {
  constructor(private readonly schema: S) {}

  transform(body: unknown): v.InferOutput<S> {
    const result = v.safeParse(this.schema, body);
    if (result.success) return result.output;
    throw new BadRequestException(result.issues.map((issue) => issue.message).join('; '));
  }
}

/**
 * A JSON object body with these fields. A missing field is reported by name; anything but an object
 * says how to send one.
 */
export function bodyObject<E extends v.ObjectEntries>(entries: E) {
  return v.object(entries, (issue) =>
    issue.path?.length
      ? `"${String(issue.path[0]!.key)}" is required`
      : 'request body must be a JSON object (Content-Type: application/json)',
  );
}

/** A required non-empty string of at most `maxLength` characters. */
export function nonEmptyString(field: string, maxLength: number) {
  const required = `"${field}" is required and must be a non-empty string`;
  return v.pipe(
    v.string(required),
    v.minLength(1, required),
    v.maxLength(maxLength, `"${field}" must be at most ${maxLength} characters`),
  );
}
