/**
 * A refusal the Core answers with a status and an error code. Thrown by the
 * service, turned into an envelope (or an RFC 6749 body) by the HTTP layer
 * and into a `LimeError` by the in-process admin API.
 */
export class CoreProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'CoreProblem';
  }
}

/** 400 VALIDATION_ERROR naming the offending field. */
export function invalidField(field: string, expected: string): CoreProblem {
  return new CoreProblem(400, 'VALIDATION_ERROR', `field '${field}' ${expected}`, { field });
}

/** Describe a JSON value's type for error messages without echoing it. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
