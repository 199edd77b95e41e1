import { mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/errors/classify.js';
import { LocalError, NetworkError, TimeoutError } from '../../src/errors/errors.js';

const timeouts = { connectMs: 5000, headersMs: 30_000, idleMs: 60_000 };

/** An error as Node's system calls make them: code, errno and the call that failed. */
const systemError = (code: string, syscall?: string) => Object.assign(new Error(`${syscall ?? ''} ${code}`), { code, errno: -110, syscall });

describe('classify', () => {
  it("takes the system's ETIMEDOUT for a connect timeout only when connect() gave it", () => {
    for (const error of [systemError('ETIMEDOUT', 'connect'), systemError('ETIMEDOUT'), { code: 'UND_ERR_CONNECT_TIMEOUT' }]) {
      const classified = classify(error, undefined, timeouts);
      expect(classified).toBeInstanceOf(TimeoutError);
      expect(classified).toMatchObject({ code: 'ETIMEDOUT_CONNECT', message: 'could not connect within 5 s', retryable: true });
    }
  });

  it('takes an ETIMEDOUT from a read or a write for a transfer that stalled, which is retried and resumed', () => {
    // A socket read (a TCP retransmission timeout), or a write to a file on a soft network mount
    // (the native pump reports that one as a write's).
    for (const syscall of ['read', 'write']) {
      const classified = classify(systemError('ETIMEDOUT', syscall), undefined, timeouts);
      expect(classified, syscall).toBeInstanceOf(NetworkError);
      expect(classified, syscall).toMatchObject({ code: 'ETIMEDOUT', retryable: true });
      expect(classified.message, syscall).not.toMatch(/could not connect/);
    }
  });

  it('fails a request that cannot be sent (a header value with CR or LF) at once, naming the header', () => {
    // As dl's own connections (http/h1/connection.ts) and undici refuse such a header.
    const classified = classify(Object.assign(new Error('invalid x-evil header'), { code: 'UND_ERR_INVALID_ARG' }), undefined, timeouts);
    expect(classified).toBeInstanceOf(LocalError);
    expect(classified).toMatchObject({ code: 'BAD_HEADER', retryable: false, fatal: false });
    expect(classified.message).toContain('x-evil');
  });

  it('takes ENOENT as a missing file or folder only from a file operation, and from a name lookup as a DNS failure that is retried', () => {
    for (const syscall of ['mkdir', 'open', 'stat', 'rename']) {
      expect(classify(systemError('ENOENT', syscall)), syscall).toMatchObject({ code: 'ENOENT', message: 'no such file or folder', retryable: false, fatal: false });
    }
    // getaddrinfo failing with EAI_SYSTEM and errno ENOENT, as Node reports it.
    const lookup = classify(systemError('ENOENT', 'getaddrinfo'));
    expect(lookup).toBeInstanceOf(NetworkError);
    expect(lookup).toMatchObject({ retryable: true });
    expect(classify(systemError('ENOENT'))).toMatchObject({ retryable: true });
  });

  it("keeps a file system's own errors local, by their code", () => {
    const dir = mkdtempSync(join(tmpdir(), 'dl-classify-'));
    try {
      let thrown: unknown;
      try {
        readSync(openSync(dir, 'r'), Buffer.alloc(1));
      } catch (error) {
        thrown = error;
      }
      const classified = classify(thrown);
      expect(classified).toBeInstanceOf(LocalError);
      expect(classified).toMatchObject({ code: 'EISDIR', retryable: false });
      // mkdir where a file is: final, not retried as an unknown error would be.
      writeFileSync(join(dir, 'file'), 'x');
      let mkdirError: unknown;
      try {
        mkdirSync(join(dir, 'file'), { recursive: true });
      } catch (error) {
        mkdirError = error;
      }
      expect(classify(mkdirError)).toMatchObject({ code: 'EEXIST', message: 'a file is in the way of a folder', retryable: false });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
