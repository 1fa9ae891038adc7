// The management API's errors, as rabbitmq_management writes them: a status code and a JSON
// body {"error": ..., "reason": ...}. Core's typed AMQP errors map onto them here, in one
// place, so a handler just calls the same core operation an AMQP method calls and throws.
import { AmqpError } from '../protocol/errors.js';

const REALM = 'Basic realm="RabbitMQ Management"';

export class HttpError extends Error {
  constructor(readonly status: number, readonly error: string, readonly reason: string, readonly headers: Record<string, string> = {}) {
    super(`${status} ${error}: ${reason}`);
  }

  static notFound(): HttpError {
    return new HttpError(404, 'Object Not Found', 'Not Found');
  }

  static badRequest(reason: string): HttpError {
    return new HttpError(400, 'bad_request', reason);
  }

  /** No credentials at all: 401 with an empty body, asking for basic auth. */
  static noCredentials(): HttpError {
    return new HttpError(401, '', '', { 'www-authenticate': REALM });
  }

  /** A failed login: RabbitMQ spells this one "authorized"... */
  static loginFailed(): HttpError {
    return new HttpError(401, 'not_authorized', 'Login failed', { 'www-authenticate': REALM });
  }

  /** ...and a refusal after login (tags, access) "authorised". */
  static notAuthorised(reason: string): HttpError {
    return new HttpError(401, 'not_authorised', reason, { 'www-authenticate': REALM });
  }

  /** 405 with an empty body, as RabbitMQ's. */
  static methodNotAllowed(): HttpError {
    return new HttpError(405, '', '');
  }

  /** An error RabbitMQ answers without a body. */
  get empty(): boolean {
    return this.error === '';
  }
}

/**
 * What RabbitMQ's management plugin answers when the operation behind a request fails the way
 * an AMQP method would (checked against 3.10.8): a missing object is 404, an access refusal
 * (reserved amq. name, default exchange, permissions) 401 "Access refused.", anything else
 * (precondition, exclusive lock, unknown exchange type) 400 bad_request with the AMQP
 * explanation as the reason.
 */
export function fromAmqp(err: AmqpError): HttpError {
  if (err.code === 404) return HttpError.notFound();
  if (err.code === 403) return HttpError.notAuthorised('Access refused.');
  return HttpError.badRequest(err.explanation);
}

/** Any thrown value as an HttpError (internal errors become 500 with a message, not a stack). */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof AmqpError) return fromAmqp(err);
  return new HttpError(500, 'internal_error', err instanceof Error ? err.message : String(err));
}
