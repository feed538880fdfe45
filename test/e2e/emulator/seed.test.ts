import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { parseSeedArgs, seedEnvironment } from '../../../scripts/seed.js';
import { useMoto } from '../../support/moto.js';

const moto = useMoto();
let documentsDir: string;

beforeAll(async () => {
  documentsDir = await mkdtemp(join(tmpdir(), 'converge-seed-'));
  await writeFile(join(documentsDir, 'environment.yaml'), 'kind: Environment\nname: shop\n');
  await writeFile(join(documentsDir, 'web.yml'), 'kind: Service\nname: web\n');
  await writeFile(join(documentsDir, 'extra.json'), '{"kind":"Service","name":"api"}');
  await writeFile(join(documentsDir, 'notes.txt'), 'not a document');
});

afterAll(async () => {
  await rm(documentsDir, { recursive: true, force: true });
});

describe('scripts/seed', () => {
  it('creates the VPC, subnets, hosted zone and bucket, and uploads the documents', async () => {
    const result = await seedEnvironment({ endpoint: moto.endpoint, documentsDir });
    expect(result.bucket).toBe('converge-desired-state');
    expect(result.prefix).toBe('shop/');
    expect(result.source).toBe('s3://converge-desired-state/shop/');
    expect(result.uploaded).toEqual(['shop/environment.yaml', 'shop/extra.json', 'shop/web.yml']);

    const ec2 = new EC2Client(moto.clientConfig);
    const vpcs = await ec2.send(new DescribeVpcsCommand({ VpcIds: [result.vpcId] }));
    expect(vpcs.Vpcs?.[0]?.CidrBlock).toBe('10.0.0.0/16');
    expect(vpcs.Vpcs?.[0]?.Tags).toContainEqual({ Key: 'Name', Value: 'shop' });
    const subnets = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [...result.privateSubnetIds, ...result.publicSubnetIds] }));
    const byName = new Map(
      (subnets.Subnets ?? []).map((s) => [s.Tags?.find((t) => t.Key === 'Name')?.Value, { cidr: s.CidrBlock, az: s.AvailabilityZone, id: s.SubnetId }]),
    );
    expect(byName.get('shop-private-a')).toEqual({ cidr: '10.0.1.0/24', az: 'us-east-1a', id: result.privateSubnetIds[0] });
    expect(byName.get('shop-private-b')).toEqual({ cidr: '10.0.2.0/24', az: 'us-east-1b', id: result.privateSubnetIds[1] });
    expect(byName.get('shop-public-a')).toEqual({ cidr: '10.0.101.0/24', az: 'us-east-1a', id: result.publicSubnetIds[0] });
    expect(byName.get('shop-public-b')).toEqual({ cidr: '10.0.102.0/24', az: 'us-east-1b', id: result.publicSubnetIds[1] });

    const route53 = new Route53Client(moto.clientConfig);
    const zone = await route53.send(new GetHostedZoneCommand({ Id: result.hostedZoneId }));
    expect(zone.HostedZone?.Name).toBe('example.com.');
    expect(zone.HostedZone?.Config?.PrivateZone).toBe(false);

    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: result.bucket, Prefix: result.prefix }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(result.uploaded);
    const object = await s3.send(new GetObjectCommand({ Bucket: result.bucket, Key: 'shop/web.yml' }));
    expect(await object.Body?.transformToString()).toBe('kind: Service\nname: web\n');

    // Seeding again finds what is there.
    const again = await seedEnvironment({ endpoint: moto.endpoint });
    expect(again).toMatchObject({
      vpcId: result.vpcId,
      privateSubnetIds: result.privateSubnetIds,
      publicSubnetIds: result.publicSubnetIds,
      hostedZoneId: result.hostedZoneId,
      uploaded: [],
    });
    for (const client of [ec2, route53, s3]) client.destroy();
  });

  it('takes other names', async () => {
    const result = await seedEnvironment({ endpoint: moto.endpoint, envName: 'blog', zoneName: 'blog.test', bucket: 'states', prefix: 'envs/blog' });
    expect(result.prefix).toBe('envs/blog/');
    expect(result.source).toBe('s3://states/envs/blog/');
    const ec2 = new EC2Client(moto.clientConfig);
    const subnets = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'tag:Name', Values: ['blog-private-a', 'blog-public-b'] }] }));
    expect(subnets.Subnets).toHaveLength(2);
    ec2.destroy();
  });

  it('parses its command line', () => {
    expect(parseSeedArgs(['--endpoint', 'http://127.0.0.1:1', '--documents=docs', '--env-name', 'blog'])).toMatchObject({
      endpoint: 'http://127.0.0.1:1',
      envName: 'blog',
      documentsDir: expect.stringMatching(/docs$/) as unknown,
    });
    expect(() => parseSeedArgs(['--nope', 'x', '--endpoint', 'e'])).toThrow(/unknown flag --nope/);
  });
});
