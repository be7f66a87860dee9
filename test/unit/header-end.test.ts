import { describe, expect, it } from 'vitest';
import { createHeaderEndScanner, findHeaderEnd } from '../../src/mail/header-end.js';

describe('finding the end of the header section', () => {
  it('stops at the first empty line, whatever the line endings', () => {
    expect(findHeaderEnd(Buffer.from('A: 1\r\nB: 2\r\n\r\nbody\n\n'))).toBe(12);
    expect(findHeaderEnd(Buffer.from('A: 1\nB: 2\n\nbody\r\n\r\n'))).toBe(10);
    // Bare-LF header lines and a CRLF blank line; CRLF header lines and a bare-LF blank line.
    expect(findHeaderEnd(Buffer.from('A: 1\nB: 2\n\r\nbody\r\n\r\n'))).toBe(10);
    expect(findHeaderEnd(Buffer.from('A: 1\r\nB: 2\r\n\nbody\r\n\r\n'))).toBe(12);
    expect(findHeaderEnd(Buffer.from('\r\nbody'))).toBe(0);
    // A lone CR ends no line; a message without an empty line has no end.
    expect(findHeaderEnd(Buffer.from('A: 1\r\r\nB: 2\r\n'))).toBe(-1);
    expect(findHeaderEnd(Buffer.from('A: 1\r\nB: 2'))).toBe(-1);
  });

  it('finds it across chunk boundaries, at the same offset as in one piece', () => {
    const message = Buffer.from('From: a@example.com\nSubject: x\n\r\nbody\r\n');
    for (let cut = 0; cut <= message.length; cut++) {
      for (let second = cut; second <= message.length; second++) {
        const scanner = createHeaderEndScanner();
        scanner.feed(message.subarray(0, cut));
        scanner.feed(message.subarray(cut, second));
        scanner.feed(message.subarray(second));
        expect(scanner.found, `cuts at ${cut}, ${second}`).toBe(31);
      }
    }
  });

  it('keeps the first end it found when fed more', () => {
    const scanner = createHeaderEndScanner();
    expect(scanner.feed(Buffer.from('A: 1\r\nB: 2'))).toBeUndefined();
    expect(scanner.feed(Buffer.from('\r\n\r'))).toBeUndefined();
    expect(scanner.feed(Buffer.from('\nbody\r\n\r\n'))).toBe(12);
    expect(scanner.feed(Buffer.from('\r\n\r\n'))).toBe(12);
    expect(scanner.found).toBe(12);
  });
});
