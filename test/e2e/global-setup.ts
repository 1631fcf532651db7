import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { startMoto } from '../../scripts/moto.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

/**
 * Builds the CLI the tests run (bin/ssm-setup.js → dist/), starts one moto_server on a free
 * 127.0.0.1 port for the e2e project, and stops it by PID at the end.
 */
export default async function setup(project: TestProject) {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  const moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
  return () => moto.stop();
}
