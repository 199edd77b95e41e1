import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, withTempDir } from '../helpers/cli.js';
import { hostileHandler } from '../helpers/hostile-server.js';
import { useServer } from '../helpers/server.js';

describe('credentials in URLs', () => {
  const server = useServer(hostileHandler());
  const secret = 'pa55-w0rd';
  const withCredentials = (path: string) => server.url(path).replace('http://', `http://alice:${secret}@`);

  it('never appear in plain output, --json events, --status or --status --failed', async () => {
    await withTempDir(async (dir) => {
      const lines = [withCredentials('/clean/ok.bin'), withCredentials('/gone/404/missing.bin'), `ftp://bob:${secret}@127.0.0.1/x`];
      await writeFile(join(dir, 'urls.txt'), lines.join('\n'));
      const plain = await runCli(['-l', 'a.jsonl', '-d', 'out', 'urls.txt'], dir);
      const json = await runCli(['--json', '-l', 'b.jsonl', '-d', 'out2', 'urls.txt'], dir);
      const status = await runCli(['-l', 'a.jsonl', '--status'], dir);
      const statusJson = await runCli(['-l', 'a.jsonl', '--status', '--json'], dir);
      const failed = await runCli(['-l', 'a.jsonl', '--status', '--failed'], dir);
      expect(plain.code).toBe(1);
      // Each output names the failing URL, with the user and password replaced.
      expect(plain.stderr).toContain(`failed: http://***:***@127.0.0.1:${server.port}/gone/404/missing.bin`);
      expect(json.stdout).toContain(`"url":"http://***:***@127.0.0.1:${server.port}/gone/404/missing.bin"`);
      expect(status.stdout).toContain(`http://***:***@127.0.0.1:${server.port}/gone/404/missing.bin`);
      expect(failed.stdout.trim()).toBe(`http://***:***@127.0.0.1:${server.port}/gone/404/missing.bin`);
      for (const output of [plain.stdout, plain.stderr, json.stdout, json.stderr, status.stdout, statusJson.stdout, failed.stdout]) {
        expect(output).not.toContain(secret);
      }
      // The joblog keeps the URL as given (a resume needs it) and is readable by its owner only.
      const log = join(dir, 'a.jsonl');
      expect(await readFile(log, 'utf8')).toContain(secret);
      expect((await stat(log)).mode & 0o077).toBe(0);
    });
  });
});
