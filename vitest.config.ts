import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end tests spawn the CLI and run real servers; a busy 2-core machine needs room.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Every test talks to 127.0.0.1 directly unless it sets a proxy itself.
    env: { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', NO_PROXY: '', no_proxy: '' },
    globalSetup: ['test/global-setup.ts'],
  },
});
