import { ListCommandsCommand, paginateListCommandInvocations, SSMClient } from '@aws-sdk/client-ssm';
import { unlessMissing } from '../../aws/errors.js';
import type { CommandSpec } from '../../aws/fleet.js';
import { pool } from '../../base/batch.js';
import type { Clients } from '../../core/clients.js';
import type { TargetInstance } from '../../core/step.js';
import { sameJson } from '../../policies/types.js';

/** User tags an EC2 resource can carry; `aws:` tags do not count (EC2 user guide, tag restrictions). */
export const EC2_TAG_LIMIT = 50;

/** Whether EC2 would refuse one more tag key on this instance (TagLimitExceeded). */
export function atTagLimit(t: TargetInstance, key: string): boolean {
  if (key in t.tags) return false; // an existing key is only overwritten
  return Object.keys(t.tags).filter((k) => !/^aws:/i.test(k)).length >= EC2_TAG_LIMIT;
}

/**
 * The instances among `instanceIds` where `spec` succeeded, as the Run Command history shows it
 * (AWS keeps it 30 days): per instance, ListCommandInvocations filtered by the document and
 * Success; then each command's parameters (ListCommands by CommandId, once per command) must
 * hold `spec.parameters`, whoever sent it. For instances that cannot carry the tag that
 * remembers the install: without it the install would be sent on every run.
 */
export async function succeededInHistory(aws: Clients, instanceIds: readonly string[], spec: CommandSpec): Promise<Set<string>> {
  const ssm = aws.get(SSMClient);
  const verdicts = new Map<string, Promise<boolean>>();
  const sameCommand = (CommandId: string) => {
    let verdict = verdicts.get(CommandId);
    if (!verdict) {
      verdict = (async () => {
        const listed = await unlessMissing(ssm.send(new ListCommandsCommand({ CommandId })), 'InvalidCommandId');
        const params = listed?.Commands?.[0]?.Parameters ?? {};
        return Object.entries(spec.parameters).every(([k, v]) => sameJson(params[k] ?? [], v));
      })();
      verdicts.set(CommandId, verdict);
    }
    return verdict;
  };
  const found = new Set<string>();
  await pool(instanceIds, 4, async (InstanceId) => {
    const Filters = [
      { key: 'DocumentName' as const, value: spec.document },
      { key: 'Status' as const, value: 'Success' },
    ];
    for await (const page of paginateListCommandInvocations({ client: ssm, pageSize: 50 }, { InstanceId, Filters })) {
      for (const inv of page.CommandInvocations ?? []) {
        if (inv.CommandId && (await sameCommand(inv.CommandId))) {
          found.add(InstanceId);
          return;
        }
      }
    }
  });
  return found;
}
