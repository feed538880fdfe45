import { BatchGetDeploymentsCommand, CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { batchGetDeployments } from '../../../src/aws/codedeploy.js';

const mock = mockClient(CodeDeployClient);
afterEach(() => mock.reset());
const cd = new CodeDeployClient({ region: 'us-east-1' });
const denied = Object.assign(new Error('not authorized to perform: codedeploy:GetDeployment on deploymentgroup:other-team/api'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });

describe('batchGetDeployments under a least-privilege policy', () => {
  it('reads a refused batch again one id at a time and reports the ids it may not read, without failing', async () => {
    mock.on(BatchGetDeploymentsCommand).callsFake((input: { deploymentIds: string[] }) => {
      if (input.deploymentIds.includes('d-THEIRS0001')) throw denied;
      return { deploymentsInfo: input.deploymentIds.map((deploymentId) => ({ deploymentId, status: 'InProgress' })) };
    });
    const infos = await batchGetDeployments(cd, ['d-OURS000001', 'd-THEIRS0001', 'd-OURS000002']);
    expect(infos.map((i) => i.deploymentId)).toEqual(['d-OURS000001', 'd-OURS000002']);
    expect(infos.denied).toEqual(['d-THEIRS0001']);
    expect(mock.commandCalls(BatchGetDeploymentsCommand)).toHaveLength(4);
  });

  it('still throws any other error', async () => {
    mock.on(BatchGetDeploymentsCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(batchGetDeployments(cd, ['d-OURS000001'])).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});
