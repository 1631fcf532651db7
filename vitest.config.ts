import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  define: { __SSM_SETUP_VERSION__: JSON.stringify(pkg.version) },
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    // Tests never reach AWS: fake credentials, no instance metadata, no shared config, and an
    // endpoint on a closed loopback port for anything that escapes a mock.
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_PROFILE: '',
      AWS_REGION: '',
      AWS_DEFAULT_REGION: '',
      NO_COLOR: '1',
    },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/e2e/**'], setupFiles: ['test/setup.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          // One emulator, reset between tests: files must not run at the same time.
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
