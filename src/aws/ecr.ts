/** ECR: whether images exist (preflight). Metadata only: DescribeImages reads no layer and no manifest. */
import { DescribeImagesCommand, type ECRClient, type ImageDetail, type ImageIdentifier } from '@aws-sdk/client-ecr';
import { chunk } from '../util/semaphore.js';
import { awsErrorName } from './errors.js';

/** DescribeImages takes at most 100 image ids per call (ECR API reference, `imageIds`). */
export const DESCRIBE_IMAGES_BATCH = 100;

export interface EcrImageId {
  imageTag?: string;
  imageDigest?: string;
}

export interface RepositoryImages {
  repositoryExists: boolean;
  /** Whether each asked image exists, in the order asked. */
  found: boolean[];
}

function matches(details: readonly ImageDetail[], id: EcrImageId): boolean {
  return details.some((d) => (id.imageDigest !== undefined ? d.imageDigest === id.imageDigest : id.imageTag !== undefined && (d.imageTags ?? []).includes(id.imageTag)));
}

/**
 * Which of the images exist in one repository: one call per 100 ids. DescribeImages refuses a
 * whole call when one id is missing (ImageNotFoundException), so such a batch is split in halves
 * until the missing ids are found; a repository that does not exist answers for all of them.
 */
export async function findImages(ecr: ECRClient, input: { registryId: string; repositoryName: string; imageIds: readonly EcrImageId[] }): Promise<RepositoryImages> {
  const found = input.imageIds.map(() => false);
  const describe = async (indices: number[]): Promise<void> => {
    const imageIds: ImageIdentifier[] = indices.map((i) => ({ ...input.imageIds[i] }));
    try {
      const res = await ecr.send(new DescribeImagesCommand({ registryId: input.registryId, repositoryName: input.repositoryName, imageIds }));
      for (const i of indices) found[i] = matches(res.imageDetails ?? [], input.imageIds[i] ?? {});
    } catch (error) {
      if (awsErrorName(error) !== 'ImageNotFoundException') throw error;
      if (indices.length === 1) return;
      const half = Math.ceil(indices.length / 2);
      await describe(indices.slice(0, half));
      await describe(indices.slice(half));
    }
  };
  try {
    for (const batch of chunk(input.imageIds.map((_, i) => i), DESCRIBE_IMAGES_BATCH)) await describe(batch);
  } catch (error) {
    if (awsErrorName(error) === 'RepositoryNotFoundException') return { repositoryExists: false, found: input.imageIds.map(() => false) };
    throw error;
  }
  return { repositoryExists: true, found };
}
