/**
 * Creates, in an emulator (or any endpoint), what an environment needs before converge runs:
 * a VPC with private and public subnets, a public hosted zone and the desired-state bucket.
 *
 *   node dist/scripts/seed.js --endpoint http://127.0.0.1:5000 --documents desired-state/examples/shop
 */
import { CreateSubnetCommand, CreateVpcCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateHostedZoneCommand, ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface SeedOptions {
  endpoint: string;
  region?: string;
  /** Desired-state bucket; default `converge-desired-state`. */
  bucket?: string;
  /** Key prefix of the documents; default `${envName}/`. */
  prefix?: string;
  /** Every .yaml/.yml/.json file of this folder is uploaded under the prefix. */
  documentsDir?: string;
  /** Names the VPC and subnets (`${envName}-private-a`, ...); default `shop`. */
  envName?: string;
  /** Public hosted zone; default `example.com`. */
  zoneName?: string;
  /** VPC CIDR; default 10.0.0.0/16 (subnets 10.0.1/2.0/24 private, 10.0.101/102.0/24 public). */
  vpcCidr?: string;
}

export interface SeedResult {
  vpcId: string;
  privateSubnetIds: string[];
  publicSubnetIds: string[];
  /** Without the `/hostedzone/` prefix. */
  hostedZoneId: string;
  zoneName: string;
  bucket: string;
  prefix: string;
  /** `s3://bucket/prefix`, the value for `--source` / CONVERGE_SOURCE. */
  source: string;
  /** Keys uploaded from documentsDir. */
  uploaded: string[];
}

interface SubnetSpec {
  name: string;
  cidr: string;
  zone: string;
}

const DOCUMENT_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function subnetSpecs(envName: string, region: string): { private: SubnetSpec[]; public: SubnetSpec[] } {
  return {
    private: [
      { name: `${envName}-private-a`, cidr: '10.0.1.0/24', zone: `${region}a` },
      { name: `${envName}-private-b`, cidr: '10.0.2.0/24', zone: `${region}b` },
    ],
    public: [
      { name: `${envName}-public-a`, cidr: '10.0.101.0/24', zone: `${region}a` },
      { name: `${envName}-public-b`, cidr: '10.0.102.0/24', zone: `${region}b` },
    ],
  };
}

function nameTag(name: string) {
  return [{ Key: 'Name', Value: name }];
}

async function ensureVpc(ec2: EC2Client, envName: string, cidr: string): Promise<string> {
  const found = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: [envName] }] }));
  const existing = found.Vpcs?.[0]?.VpcId;
  if (existing) return existing;
  const created = await ec2.send(
    new CreateVpcCommand({ CidrBlock: cidr, TagSpecifications: [{ ResourceType: 'vpc', Tags: nameTag(envName) }] }),
  );
  const vpcId = created.Vpc?.VpcId;
  if (!vpcId) throw new Error('seed: CreateVpc answered no VpcId');
  return vpcId;
}

async function ensureSubnet(ec2: EC2Client, vpcId: string, spec: SubnetSpec): Promise<string> {
  const found = await ec2.send(
    new DescribeSubnetsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'tag:Name', Values: [spec.name] },
      ],
    }),
  );
  const existing = found.Subnets?.[0]?.SubnetId;
  if (existing) return existing;
  const created = await ec2.send(
    new CreateSubnetCommand({
      VpcId: vpcId,
      CidrBlock: spec.cidr,
      AvailabilityZone: spec.zone,
      TagSpecifications: [{ ResourceType: 'subnet', Tags: nameTag(spec.name) }],
    }),
  );
  const subnetId = created.Subnet?.SubnetId;
  if (!subnetId) throw new Error(`seed: CreateSubnet ${spec.name} answered no SubnetId`);
  return subnetId;
}

function bareZoneId(id: string): string {
  return id.replace(/^\/hostedzone\//, '');
}

async function ensureHostedZone(route53: Route53Client, zoneName: string): Promise<string> {
  const wanted = zoneName.endsWith('.') ? zoneName : `${zoneName}.`;
  const found = await route53.send(new ListHostedZonesByNameCommand({ DNSName: wanted, MaxItems: 1 }));
  const zone = found.HostedZones?.find((z) => z.Name === wanted && !z.Config?.PrivateZone);
  if (zone?.Id) return bareZoneId(zone.Id);
  const created = await route53.send(
    new CreateHostedZoneCommand({
      Name: zoneName,
      CallerReference: `converge-seed-${zoneName}-${Date.now()}`,
      HostedZoneConfig: { PrivateZone: false, Comment: 'created by converge seed' },
    }),
  );
  const id = created.HostedZone?.Id;
  if (!id) throw new Error('seed: CreateHostedZone answered no Id');
  return bareZoneId(id);
}

async function ensureBucket(s3: S3Client, bucket: string, region: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch {
    // not there yet
  }
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
}

async function uploadDocuments(s3: S3Client, bucket: string, prefix: string, dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && DOCUMENT_EXTENSIONS.has(extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort();
  const keys: string[] = [];
  for (const file of files) {
    const key = `${prefix}${file}`;
    const body = await readFile(join(dir, file));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: extname(file).toLowerCase() === '.json' ? 'application/json' : 'application/yaml',
      }),
    );
    keys.push(key);
  }
  return keys;
}

export async function seedEnvironment(options: SeedOptions): Promise<SeedResult> {
  const region = options.region ?? 'us-east-1';
  const envName = options.envName ?? 'shop';
  const zoneName = options.zoneName ?? 'example.com';
  const bucket = options.bucket ?? 'converge-desired-state';
  const rawPrefix = options.prefix ?? `${envName}/`;
  const prefix = rawPrefix === '' || rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`;
  const config = {
    endpoint: options.endpoint,
    region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const ec2 = new EC2Client(config);
  const route53 = new Route53Client(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  try {
    const vpcId = await ensureVpc(ec2, envName, options.vpcCidr ?? '10.0.0.0/16');
    const specs = subnetSpecs(envName, region);
    const privateSubnetIds: string[] = [];
    for (const spec of specs.private) privateSubnetIds.push(await ensureSubnet(ec2, vpcId, spec));
    const publicSubnetIds: string[] = [];
    for (const spec of specs.public) publicSubnetIds.push(await ensureSubnet(ec2, vpcId, spec));
    const hostedZoneId = await ensureHostedZone(route53, zoneName);
    await ensureBucket(s3, bucket, region);
    const uploaded = options.documentsDir ? await uploadDocuments(s3, bucket, prefix, options.documentsDir) : [];
    return {
      vpcId,
      privateSubnetIds,
      publicSubnetIds,
      hostedZoneId,
      zoneName,
      bucket,
      prefix,
      source: `s3://${bucket}/${prefix}`,
      uploaded,
    };
  } finally {
    ec2.destroy();
    route53.destroy();
    s3.destroy();
  }
}

// ---- CLI ------------------------------------------------------------------------------

const USAGE = `usage: node dist/scripts/seed.js --endpoint URL [--documents DIR] [--bucket NAME] [--prefix PREFIX]
                                [--env-name NAME] [--zone NAME] [--region REGION]`;

export function parseSeedArgs(argv: readonly string[]): SeedOptions {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') throw new Error(USAGE);
    const eq = arg.indexOf('=');
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    if (eq > 0) {
      flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else {
      const value = argv[i + 1];
      if (value === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      flags[arg.slice(2)] = value;
      i += 1;
    }
  }
  const known = new Set(['endpoint', 'documents', 'bucket', 'prefix', 'env-name', 'zone', 'region']);
  for (const name of Object.keys(flags)) if (!known.has(name)) throw new Error(`unknown flag --${name}\n${USAGE}`);
  const endpoint = flags.endpoint ?? process.env.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error(`--endpoint is required (or AWS_ENDPOINT_URL)\n${USAGE}`);
  return {
    endpoint,
    region: flags.region ?? process.env.AWS_REGION,
    bucket: flags.bucket,
    prefix: flags.prefix,
    documentsDir: flags.documents ? resolve(flags.documents) : undefined,
    envName: flags['env-name'],
    zoneName: flags.zone,
  };
}

async function main(): Promise<void> {
  try {
    const result = await seedEnvironment(parseSeedArgs(process.argv.slice(2)));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void main();
}
