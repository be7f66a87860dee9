import { describe, expect, it } from 'vitest';
import { describeSesFailure, firstLine } from '../../src/cli/ses-failure.js';

const socketError = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('describeSesFailure', () => {
  it('says SES could not be reached for socket errors, naming the endpoint or the region', () => {
    const dns = socketError('getaddrinfo ENOTFOUND nonexistent.invalid', 'ENOTFOUND');
    expect(describeSesFailure(dns, { endpoint: 'http://nonexistent.invalid', region: 'us-east-1' })).toBe(
      'cannot reach SES at http://nonexistent.invalid (SES_ENDPOINT): getaddrinfo ENOTFOUND nonexistent.invalid',
    );
    const refused = socketError('connect ECONNREFUSED 10.0.0.1:443', 'ECONNREFUSED');
    expect(describeSesFailure(refused, { endpoint: undefined, region: 'eu-west-1' })).toBe(
      'cannot reach SES at eu-west-1 (AWS_REGION): connect ECONNREFUSED 10.0.0.1:443',
    );
  });

  it("reports SES's own answer by name, first line only", () => {
    const denied = Object.assign(new Error('not allowed\n<html>502</html>'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
    expect(describeSesFailure(denied, { endpoint: undefined, region: 'us-east-1' })).toBe(
      'SES (us-east-1): AccessDeniedException: not allowed',
    );
    expect(firstLine('one\r\ntwo')).toBe('one');
  });
});
