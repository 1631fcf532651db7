import { confirmTeardown } from './confirm.js';
import { endpointsTeardown } from './endpoints.js';
import { iamTeardown } from './iam.js';
import { cwAgentTeardown, readInstanceMarks } from './instances.js';
import { sshConfigRemovals } from './local.js';
import { preferencesTeardown } from './preferences.js';
import { associationTeardown } from './ssm.js';
import { storageTeardown } from './storage.js';
import { merge, type Teardown, type TeardownContext } from './types.js';

export { confirmTeardown };

/**
 * Everything `destroy` would remove, in the order it runs (the reverse of init's: the local SSH
 * block, the associations, the instance markers, the preferences, IAM, the VPC endpoints and their
 * security groups, then the audit trail),
 * and what it keeps and why. Read-only; every run reads again, so a rerun finishes a destroy
 * that stopped half-way and a second one finds nothing to remove.
 */
export async function readTeardown(ctx: TeardownContext): Promise<Teardown> {
  const ssh = { removals: await sshConfigRemovals(ctx), kept: [] };
  const associations = await associationTeardown(ctx);
  const marks = await readInstanceMarks(ctx);
  const preferences = await preferencesTeardown(ctx);
  const iam = await iamTeardown(ctx, marks);
  const endpoints = await endpointsTeardown(ctx);
  const storage = await storageTeardown(ctx, { preferencesKey: preferences.keyAfter });
  return merge(ssh, associations, cwAgentTeardown(ctx, marks), preferences, iam, endpoints, storage);
}
