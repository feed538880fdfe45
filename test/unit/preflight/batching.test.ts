import { DescribeImagesCommand, ECRClient, type ImageIdentifier } from '@aws-sdk/client-ecr';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { findImages } from '../../../src/aws/ecr.js';
import { existingParameters } from '../../../src/aws/ssm.js';
import { TickBatcher } from '../../../src/preflight/batch.js';

const ecrMock = mockClient(ECRClient);
const ssmMock = mockClient(SSMClient);
afterEach(() => {
  ecrMock.reset();
  ssmMock.reset();
});
const ecr = new ECRClient({ region: 'us-east-1' });
const ssm = new SSMClient({ region: 'us-east-1' });
const named = (name: string): Error => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } });

describe('findImages (ecr:DescribeImages)', () => {
  const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ imageTag: `t${i}` }));

  it('asks at most 100 image ids per call', async () => {
    ecrMock.on(DescribeImagesCommand).callsFake((input: { imageIds: ImageIdentifier[] }) => ({ imageDetails: input.imageIds.map((id) => ({ imageTags: [id.imageTag ?? ''] })) }));
    const result = await findImages(ecr, { registryId: '123456789012', repositoryName: 'users', imageIds: tags(150) });
    expect(result.found.every(Boolean)).toBe(true);
    expect(ecrMock.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input.imageIds?.length)).toEqual([100, 50]);
    expect(ecrMock.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toMatchObject({ registryId: '123456789012', repositoryName: 'users' });
  });

  it('splits a batch that ECR refuses for a missing image until it knows which', async () => {
    const present = new Set(['t0', 't1', 't3', 't4', 't5', 't6', 't7']);
    ecrMock.on(DescribeImagesCommand).callsFake((input: { imageIds: ImageIdentifier[] }) => {
      if (input.imageIds.some((id) => !present.has(id.imageTag ?? ''))) throw named('ImageNotFoundException');
      return { imageDetails: input.imageIds.map((id) => ({ imageTags: [id.imageTag ?? ''] })) };
    });
    const result = await findImages(ecr, { registryId: '123456789012', repositoryName: 'users', imageIds: tags(8) });
    expect(result).toEqual({ repositoryExists: true, found: [true, true, false, true, true, true, true, true] });
    // 8 -> 4 + 4 -> (2 + 2) -> (1 + 1): 7 calls rather than 8 one by one, and 1 when nothing is missing.
    expect(ecrMock.commandCalls(DescribeImagesCommand)).toHaveLength(7);
  });

  it('matches digests, and answers for every image when the repository is missing', async () => {
    ecrMock.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:a', imageTags: ['x'] }] });
    expect((await findImages(ecr, { registryId: '1', repositoryName: 'r', imageIds: [{ imageDigest: 'sha256:a' }] })).found).toEqual([true]);
    ecrMock.on(DescribeImagesCommand).rejects(named('RepositoryNotFoundException'));
    expect(await findImages(ecr, { registryId: '1', repositoryName: 'r', imageIds: [{ imageTag: 'a' }, { imageTag: 'b' }] })).toEqual({ repositoryExists: false, found: [false, false] });
    ecrMock.on(DescribeImagesCommand).rejects(named('AccessDeniedException'));
    await expect(findImages(ecr, { registryId: '1', repositoryName: 'r', imageIds: [{ imageTag: 'a' }] })).rejects.toThrow('AccessDeniedException');
  });
});

describe('existingParameters (ssm:DescribeParameters, never a value)', () => {
  it('asks for 50 names per filter and follows every page', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `/p/${i}`);
    ssmMock.on(DescribeParametersCommand).callsFake((input: { ParameterFilters: { Key: string; Option: string; Values: string[] }[]; NextToken?: string }) => {
      const values = input.ParameterFilters[0]?.Values ?? [];
      // Best effort: the first page of the first batch comes back empty with a token.
      if (values[0] === '/p/0' && input.NextToken === undefined) return { Parameters: [], NextToken: 'more' };
      return { Parameters: values.filter((v) => v !== '/p/7').map((Name) => ({ Name })) };
    });
    const found = await existingParameters(ssm, names);
    expect(found.size).toBe(59);
    expect(found.has('/p/7')).toBe(false);
    const inputs = ssmMock.commandCalls(DescribeParametersCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.ParameterFilters?.[0]?.Values?.length, i.NextToken])).toEqual([
      [50, undefined],
      [50, 'more'],
      [10, undefined],
    ]);
    expect(inputs[0]?.ParameterFilters?.[0]).toMatchObject({ Key: 'Name', Option: 'Equals' });
    expect(inputs.every((i) => !('WithDecryption' in i))).toBe(true);
  });
});

describe('TickBatcher', () => {
  it('answers everything asked within one turn of the event loop with one flush', async () => {
    const flushes: number[][] = [];
    const batcher = new TickBatcher<number, number>((items) => {
      flushes.push(items);
      return Promise.resolve(items.map((i) => i * 10));
    });
    const first = await Promise.all([batcher.load(1), batcher.load(2), Promise.resolve().then(() => batcher.load(3))]);
    expect(first).toEqual([10, 20, 30]);
    expect(await batcher.load(4)).toBe(40);
    expect(flushes).toEqual([[1, 2, 3], [4]]);
  });

  it('rejects every item of a flush that fails', async () => {
    const batcher = new TickBatcher<number, number>(() => Promise.reject(new Error('down')));
    const results = await Promise.allSettled([batcher.load(1), batcher.load(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
