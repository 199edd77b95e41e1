import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

describe('main', () => {
  it('reports unhandled rejections through one listener, however often it runs in a process', async () => {
    const before = process.listenerCount('unhandledRejection');
    for (let i = 0; i < 12; i++) expect(await main(['node', 'dl', '--no-such-option'])).toBe(2);
    expect(process.listenerCount('unhandledRejection')).toBe(before + 1);
  });
});
