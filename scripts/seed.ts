/**
 * Creates, in an emulator (or any endpoint), what an environment needs before converge runs:
 * a VPC with private and public subnets, an internet gateway for the public subnets and a NAT
 * gateway the private subnets route through (the VPC's main route table), a public hosted zone
 * and the desired-state bucket; and, from the documents it uploads, what their workloads name
 * and preflight checks (src/preflight/): an ECR repository and image for each ECR image, each
 * Secrets Manager secret and SSM parameter, each role with the trust policy it needs.
 *
 *   node dist/scripts/seed.js --endpoint http://127.0.0.1:5000 --documents desired-state/examples/shop
 */
import { createHash } from 'node:crypto';
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateRepositoryCommand, ECRClient, PutImageCommand } from '@aws-sdk/client-ecr';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateHostedZoneCommand, ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidDesiredStateError } from '../desired-state/errors.js';
import { parseDesiredState } from '../desired-state/parse.js';
import { allWorkloads, type DesiredState } from '../desired-state/types.js';
import { parseImage, parseRole, parseSecret } from '../src/preflight/references.js';
import { CODEDEPLOY_PRINCIPAL, ECS_TASKS_PRINCIPAL } from '../src/preflight/requirements.js';

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
  /** The NAT gateway the private subnets route 0.0.0.0/0 through (the VPC's main route table). */
  natGatewayId: string;
  /** What the uploaded documents' workloads name, now in place (none when they do not parse). */
  prerequisites: Prerequisites;
}

/** What `seedPrerequisites` made sure exists. */
export interface Prerequisites {
  /** ECR image references. */
  images: string[];
  /** Secrets Manager secret and SSM parameter ARNs. */
  secrets: string[];
  /** Role ARNs. */
  roles: string[];
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

/** The VPC's internet gateway, attached (found by attachment, else created). */
async function ensureInternetGateway(ec2: EC2Client, vpcId: string, envName: string): Promise<string> {
  const found = await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }));
  const existing = found.InternetGateways?.[0]?.InternetGatewayId;
  if (existing) return existing;
  const created = await ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: [{ ResourceType: 'internet-gateway', Tags: nameTag(envName) }] }));
  const id = created.InternetGateway?.InternetGatewayId;
  if (!id) throw new Error('seed: CreateInternetGateway answered no InternetGatewayId');
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId }));
  return id;
}

/**
 * Routes out of the VPC: the public subnets through the internet gateway (their own route table),
 * everything else through a NAT gateway in the first public subnet, by a default route in the
 * VPC's main route table, so that every private subnet (also one added later) reaches ECR, S3,
 * CloudWatch Logs and Secrets Manager as preflight expects.
 */
async function ensureEgress(ec2: EC2Client, vpcId: string, publicSubnetIds: readonly string[], envName: string): Promise<string> {
  const igw = await ensureInternetGateway(ec2, vpcId, envName);
  const tables = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).RouteTables ?? [];
  const publicName = `${envName}-public`;
  if (!tables.some((t) => t.Tags?.some((tag) => tag.Key === 'Name' && tag.Value === publicName))) {
    const created = await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId, TagSpecifications: [{ ResourceType: 'route-table', Tags: nameTag(publicName) }] }));
    const tableId = created.RouteTable?.RouteTableId;
    if (!tableId) throw new Error('seed: CreateRouteTable answered no RouteTableId');
    await ec2.send(new CreateRouteCommand({ RouteTableId: tableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    for (const subnetId of publicSubnetIds) await ec2.send(new AssociateRouteTableCommand({ RouteTableId: tableId, SubnetId: subnetId }));
  }
  const nats = await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'state', Values: ['pending', 'available'] }] }));
  let natId = nats.NatGateways?.[0]?.NatGatewayId;
  if (!natId) {
    const subnetId = publicSubnetIds[0];
    if (!subnetId) throw new Error('seed: a NAT gateway needs a public subnet');
    const address = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const created = await ec2.send(
      new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: address.AllocationId, TagSpecifications: [{ ResourceType: 'natgateway', Tags: nameTag(envName) }] }),
    );
    natId = created.NatGateway?.NatGatewayId;
    if (!natId) throw new Error('seed: CreateNatGateway answered no NatGatewayId');
  }
  const main = tables.find((t) => t.Associations?.some((a) => a.Main === true));
  if (!main?.RouteTableId) throw new Error(`seed: VPC ${vpcId} has no main route table`);
  if (!(main.Routes ?? []).some((r) => r.DestinationCidrBlock === '0.0.0.0/0')) {
    await ec2.send(new CreateRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: natId }));
  }
  return natId;
}

interface ClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

const clientConfig = (endpoint: string, region: string): ClientConfig => ({ endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

/** AWS answered that it has this already: seeding again is not an error. */
function alreadyThere(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** A manifest of its own for each image (ECR keys images by their manifest's digest). */
function manifestFor(reference: string): string {
  const digest = createHash('sha256').update(reference).digest('hex');
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 2, digest: `sha256:${digest}` },
    layers: [],
  });
}

/**
 * Pushes an image for each ECR reference (its repository created when missing): a tag, or the
 * digest the reference pins. References outside ECR are left out (preflight does not verify them).
 */
export async function seedImages(options: { endpoint: string; images: readonly string[] }): Promise<string[]> {
  const pushed: string[] = [];
  const clients = new Map<string, ECRClient>();
  try {
    for (const reference of [...new Set(options.images)]) {
      const image = parseImage(reference);
      if (image.kind !== 'ecr') continue;
      let ecr = clients.get(image.region);
      if (!ecr) {
        ecr = new ECRClient(clientConfig(options.endpoint, image.region));
        clients.set(image.region, ecr);
      }
      try {
        await ecr.send(new CreateRepositoryCommand({ repositoryName: image.repository }));
      } catch (error) {
        if (!alreadyThere(error, 'RepositoryAlreadyExistsException')) throw error;
      }
      const tag = image.tag ?? `seed-${(image.digest ?? '').replace(/^sha256:/, '').slice(0, 12)}`;
      try {
        await ecr.send(new PutImageCommand({ repositoryName: image.repository, imageManifest: manifestFor(reference), imageTag: tag, ...(image.digest ? { imageDigest: image.digest } : {}) }));
      } catch (error) {
        if (!alreadyThere(error, 'ImageAlreadyExistsException')) throw error;
      }
      pushed.push(reference);
    }
  } finally {
    for (const client of clients.values()) client.destroy();
  }
  return pushed;
}

/** Trust policy that lets these services assume a role. */
function trustPolicy(principals: readonly string[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: [...principals].sort() }, Action: 'sts:AssumeRole' }] });
}

/**
 * What the desired state's workloads name, created where missing: ECR images, Secrets Manager
 * secrets and SSM parameters (with a placeholder value), and the execution, task and CodeDeploy
 * roles with the trust policy each needs. An existing one is left as it is.
 */
export async function seedPrerequisites(options: { endpoint: string; state: DesiredState }): Promise<Prerequisites> {
  const { state } = options;
  const env = state.environment.spec;
  const workloads = allWorkloads(state);
  const images = await seedImages({ endpoint: options.endpoint, images: workloads.map((w) => w.container.image) });

  const secrets: string[] = [];
  for (const valueFrom of [...new Set(workloads.flatMap((w) => Object.values(w.container.secrets)))]) {
    const secret = parseSecret(valueFrom);
    if (!secret) continue;
    if (secret.kind === 'secretsmanager') {
      const client = new SecretsManagerClient(clientConfig(options.endpoint, secret.region));
      try {
        await client.send(new CreateSecretCommand({ Name: secret.secretId.split(':')[6] ?? '', SecretString: 'placeholder-seeded-for-the-emulator' }));
      } catch (error) {
        if (!alreadyThere(error, 'ResourceExistsException')) throw error;
      } finally {
        client.destroy();
      }
    } else {
      const client = new SSMClient(clientConfig(options.endpoint, secret.region));
      try {
        await client.send(new PutParameterCommand({ Name: secret.name, Type: 'SecureString', Value: 'placeholder-seeded-for-the-emulator' }));
      } catch (error) {
        if (!alreadyThere(error, 'ParameterAlreadyExists')) throw error;
      } finally {
        client.destroy();
      }
    }
    secrets.push(valueFrom);
  }

  const principals = new Map<string, Set<string>>();
  const want = (arn: string | undefined, principal: string): void => {
    if (arn !== undefined) principals.set(arn, (principals.get(arn) ?? new Set()).add(principal));
  };
  want(env.iam.executionRoleArn, ECS_TASKS_PRINCIPAL);
  want(env.iam.taskRoleArn, ECS_TASKS_PRINCIPAL);
  for (const w of workloads) want(w.taskRoleArn, ECS_TASKS_PRINCIPAL);
  if (workloads.some((w) => w.deployment.strategy === 'blue-green')) want(env.iam.codeDeployRoleArn, CODEDEPLOY_PRINCIPAL);
  const iam = new IAMClient(clientConfig(options.endpoint, env.region));
  const roles: string[] = [];
  try {
    for (const [arn, services] of principals) {
      const role = parseRole(arn);
      if (!role) continue;
      const path = arn.slice(arn.indexOf(':role/') + ':role'.length, arn.length - role.name.length);
      try {
        await iam.send(new CreateRoleCommand({ RoleName: role.name, Path: path, AssumeRolePolicyDocument: trustPolicy([...services]) }));
      } catch (error) {
        if (!alreadyThere(error, 'EntityAlreadyExistsException', 'EntityAlreadyExists')) throw error;
      }
      roles.push(arn);
    }
  } finally {
    iam.destroy();
  }
  return { images, secrets, roles };
}

/** The documents of a folder, parsed as converge would; undefined when they are not a valid desired state. */
async function readDesiredState(dir: string): Promise<DesiredState | undefined> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.filter((e) => e.isFile() && DOCUMENT_EXTENSIONS.has(extname(e.name).toLowerCase())).map(async (e) => ({ file: e.name, content: await readFile(join(dir, e.name), 'utf8') })),
  );
  try {
    return parseDesiredState(files, 'seed');
  } catch (error) {
    if (error instanceof InvalidDesiredStateError) return undefined;
    throw error;
  }
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
    const natGatewayId = await ensureEgress(ec2, vpcId, publicSubnetIds, envName);
    const hostedZoneId = await ensureHostedZone(route53, zoneName);
    await ensureBucket(s3, bucket, region);
    const uploaded = options.documentsDir ? await uploadDocuments(s3, bucket, prefix, options.documentsDir) : [];
    const state = options.documentsDir ? await readDesiredState(options.documentsDir) : undefined;
    const prerequisites = state ? await seedPrerequisites({ endpoint: options.endpoint, state }) : { images: [], secrets: [], roles: [] };
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
      natGatewayId,
      prerequisites,
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
