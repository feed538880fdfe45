/**
 * SSM Parameter Store: whether parameters exist (preflight), by DescribeParameters, which answers
 * metadata only. GetParameters would also answer the values (String parameters in clear text,
 * SecureString ones encrypted even without decryption), so converge never calls it: no secret
 * value ever reaches converge. The price: ssm:DescribeParameters takes no resource-level
 * permission (Resource "*"), and it answers names, never values.
 */
import { DescribeParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { chunk } from '../util/semaphore.js';

/** A ParameterStringFilter takes at most 50 values; DescribeParameters returns at most 50 per page (SSM API reference). */
export const PARAMETER_FILTER_VALUES = 50;

/**
 * Which of `names` exist in this region and account: one filter `Name Equals` per 50 names, every
 * page (DescribeParameters answers "on a best-effort basis" and may return fewer matches than
 * exist with a NextToken, so pages are followed to the end).
 */
export async function existingParameters(ssm: SSMClient, names: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const batch of chunk([...new Set(names)], PARAMETER_FILTER_VALUES)) {
    let nextToken: string | undefined;
    do {
      const res = await ssm.send(
        new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: batch }], MaxResults: PARAMETER_FILTER_VALUES, NextToken: nextToken }),
      );
      for (const p of res.Parameters ?? []) if (p.Name) out.add(p.Name);
      nextToken = res.NextToken;
    } while (nextToken);
  }
  return out;
}
