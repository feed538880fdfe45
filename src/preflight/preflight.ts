/**
 * Preflight: before a workload's new revision is registered or its ECS service created or
 * deployed, check against the account what would otherwise fail the deployment minutes later:
 * its images exist in ECR, its secrets exist, its roles exist and trust the right service, a
 * given certificate is issued and covers the domain, and its private subnets reach ECR, S3,
 * CloudWatch Logs and Secrets Manager / SSM.
 *
 * `Preflight` lives as long as the Controller. Checks that passed are remembered: an image pinned
 * by digest for good, everything else for `PREFLIGHT_PASS_TTL_MS`; a failed check is never
 * remembered past its cycle, so fixing the cause lets the next cycle go ahead. The cycle asks
 * lazily (`gate`): only for a workload whose task definition or ECS service is about to change, so
 * a steady-state cycle makes no preflight call. `converge verify` asks for every workload (`checkAll`).
 */
import type { ACMClient } from '@aws-sdk/client-acm';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from 'pino';
import type { DesiredResource, Owner, ResourceType } from '../../desired-state/graph.js';
import type { ResolvedNetwork } from '../../desired-state/network.js';
import { allWorkloads, type DesiredState, type Workload } from '../../desired-state/types.js';
import { describeAwsError, isAccessDenied } from '../aws/errors.js';
import type { LiveRole } from '../aws/iam.js';
import type { LiveRouteTable, LiveVpcEndpoint } from '../aws/route-tables.js';
import type * as AwsReads from './aws-reads.js';
import { stableStringify } from '../../desired-state/hash.js';
import { TickBatcher } from './batch.js';
import { certificateCovers } from './certificate.js';
import { needsEndpointFacts, reachabilityProblems } from './reachability.js';
import { accountOfArn, certificateRegion, type EcrImage, type ImageReference, type SecretReference } from './references.js';
import { workloadKey, workloadRequirements, type RoleRequirement, type WorkloadRequirements } from './requirements.js';
import { trustsService } from './trust.js';

/** The AWS reads, loaded when a check first calls AWS (src/preflight/aws-reads.ts says why). */
let awsReads: Promise<typeof AwsReads> | undefined;
const reads = (): Promise<typeof AwsReads> => (awsReads ??= import('./aws-reads.js'));

/** The clients preflight reads with, in one region (IAM is global). */
export interface PreflightClients {
  ecr: ECRClient;
  ssm: SSMClient;
  iam: IAMClient;
  secretsManager: SecretsManagerClient;
  acm: ACMClient;
  ec2: EC2Client;
}

/** How long a check that passed is trusted (a tag can be moved or deleted, a secret or role deleted). */
export const PREFLIGHT_PASS_TTL_MS = 10 * 60_000;
/** Remembered passes above this many are pruned (expired first). */
const MAX_REMEMBERED = 2_000;

/** The resource types whose write starts a workload's rollout: registering a revision, creating or deploying the service. */
export const GATED_TYPES: ReadonlySet<ResourceType> = new Set<ResourceType>(['task-definition', 'ecs-service']);

/** One workload's preflight: what is wrong (blocks it) and what could not be verified (never blocks). */
export interface WorkloadPreflight {
  workload: string;
  problems: string[];
  notes: string[];
}

export interface PreflightOptions {
  clientsFor(region: string): PreflightClients;
  ttlMs?: number;
  now?: () => number;
}

export interface PreflightInput {
  state: DesiredState;
  network: ResolvedNetwork;
}

/** Consulted by the engine before a resource with changes is written; a message refuses it. */
export type ResourceGate = (resource: DesiredResource) => Promise<string | undefined>;

export class Preflight {
  /** Check key -> when the pass expires (ms since the epoch; Infinity: never). */
  private readonly passed = new Map<string, number>();

  constructor(private readonly options: PreflightOptions) {}

  /** The cycle's gate: checks the workload owning a task definition or ECS service about to change, once per cycle. */
  gate(input: PreflightInput & { log: Logger }): ResourceGate {
    const run = new PreflightRun(this, input);
    const checked = new Map<string, Promise<WorkloadPreflight>>();
    return async (resource) => {
      if (!GATED_TYPES.has(resource.type)) return undefined;
      const workload = workloadOf(input.state, resource.owner);
      if (!workload) return undefined;
      const key = workloadKey(workload);
      let pending = checked.get(key);
      if (!pending) {
        pending = run.check(workload).then((result) => {
          logResult(input.log, result);
          return result;
        });
        checked.set(key, pending);
      }
      const result = await pending;
      return result.problems.length > 0 ? `preflight: ${result.problems.join('; ')}` : undefined;
    };
  }

  /** Every workload at once (`converge verify`), in the desired state's order. */
  async checkAll(input: PreflightInput): Promise<WorkloadPreflight[]> {
    const run = new PreflightRun(this, input);
    return Promise.all(allWorkloads(input.state).map((w) => run.check(w)));
  }

  /** @internal */
  clientsFor(region: string): PreflightClients {
    return this.options.clientsFor(region);
  }

  /** @internal Whether `key` passed recently enough to skip the call. */
  hasPassed(key: string): boolean {
    const expires = this.passed.get(key);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.passed.delete(key);
    return false;
  }

  /** @internal */
  recordPass(key: string, forever: boolean): void {
    if (this.passed.size >= MAX_REMEMBERED) {
      const now = this.now();
      for (const [k, expires] of this.passed) if (expires <= now) this.passed.delete(k);
      if (this.passed.size >= MAX_REMEMBERED) this.passed.clear();
    }
    this.passed.set(key, forever ? Number.POSITIVE_INFINITY : this.now() + (this.options.ttlMs ?? PREFLIGHT_PASS_TTL_MS));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function workloadOf(state: DesiredState, owner: Owner): Workload | undefined {
  return allWorkloads(state).find((w) => w.kind === owner.kind && w.name === owner.name);
}

function logResult(log: Logger, result: WorkloadPreflight): void {
  if (result.problems.length > 0) {
    log.warn(
      { event: 'preflight', workload: result.workload, passed: false, problems: result.problems, notVerified: result.notes },
      `preflight of ${result.workload} failed, nothing is registered or deployed for it: ${result.problems.join('; ')}`,
    );
  } else {
    log.info({ event: 'preflight', workload: result.workload, passed: true, notVerified: result.notes }, `preflight of ${result.workload} passed${result.notes.length > 0 ? ` (${result.notes.length} not verified)` : ''}`);
  }
}

interface Outcome {
  problems: string[];
  notes: string[];
}

const OK: Outcome = { problems: [], notes: [] };
const problem = (message: string): Outcome => ({ problems: [message], notes: [] });
const note = (message: string): Outcome => ({ problems: [], notes: [message] });

/** An answer about one ECR image, or why there is none. */
type ImageAnswer = 'found' | 'missing' | 'no-repository' | { error: unknown };

interface NetworkFacts {
  tables: LiveRouteTable[];
  endpoints?: LiveVpcEndpoint[];
}

/** The checks of one cycle (or one `verify`): calls shared between workloads, failures forgotten afterwards. */
class PreflightRun {
  private readonly memo = new Map<string, Promise<Outcome>>();
  private readonly roles = new Map<string, Promise<LiveRole | undefined>>();
  private readonly networks = new Map<string, Promise<NetworkFacts>>();
  private readonly images = new TickBatcher<EcrImage, ImageAnswer>((items) => this.flushImages(items));
  private readonly parameters = new TickBatcher<Extract<SecretReference, { kind: 'ssm' }>, boolean | { error: unknown }>((items) => this.flushParameters(items));

  constructor(
    private readonly preflight: Preflight,
    private readonly input: PreflightInput,
  ) {}

  async check(workload: Workload): Promise<WorkloadPreflight> {
    const req = workloadRequirements(this.input.state, this.input.network, workload);
    const outcomes = await Promise.all([
      ...req.images.map((image) => this.image(image, req)),
      ...req.secrets.map(({ variable, secret }) => this.secret(secret, req).then((o) => prefixed(o, `secret ${variable}: `))),
      ...req.invalidRoles.map(({ arn, use }) => Promise.resolve(problem(`${use} ${arn} is not an IAM role ARN`))),
      ...req.roles.map((role) => this.role(role)),
      ...(req.certificate ? [this.certificate(req.certificate, req.region)] : []),
      this.network(req),
    ]);
    return { workload: req.workload, problems: outcomes.flatMap((o) => o.problems), notes: outcomes.flatMap((o) => o.notes) };
  }

  /** Runs `compute` once per run for `key`, skips it while a pass is remembered, and remembers a clean pass. */
  private cached(key: string, forever: boolean, compute: () => Promise<Outcome>): Promise<Outcome> {
    if (this.preflight.hasPassed(key)) return Promise.resolve(OK);
    let pending = this.memo.get(key);
    if (!pending) {
      pending = compute().then((outcome) => {
        if (outcome.problems.length === 0 && outcome.notes.length === 0) this.preflight.recordPass(key, forever);
        return outcome;
      });
      this.memo.set(key, pending);
    }
    return pending;
  }

  // ---- images ----------------------------------------------------------------------------

  private image(image: ImageReference, req: WorkloadRequirements): Promise<Outcome> {
    if (image.kind === 'other') return Promise.resolve(note(`image ${image.reference} is not in a private ECR registry (${image.registry}): not verified`));
    if (req.account !== undefined && image.account !== req.account) {
      return Promise.resolve(note(`image ${image.reference} is in the ECR registry of account ${image.account}, not the Environment's ${req.account}: not verified`));
    }
    const id = image.digest !== undefined ? `@${image.digest}` : `:${image.tag ?? 'latest'}`;
    // A digest names content that never changes: once seen, it is there for good (unless deleted, which ECS would then report).
    return this.cached(`image:${image.account}/${image.region}/${image.repository}${id}`, image.digest !== undefined, async () => {
      const answer = await this.images.load(image);
      if (answer === 'found') return OK;
      if (answer === 'no-repository') return problem(`image ${image.reference}: ECR repository ${image.repository} is missing (account ${image.account}, ${image.region})`);
      if (answer === 'missing') {
        const what = image.digest !== undefined ? `with digest ${image.digest}` : `tagged ${image.tag ?? 'latest'}`;
        return problem(`image ${image.reference} is not in ECR repository ${image.repository} (no image ${what})`);
      }
      if (isAccessDenied(answer.error)) return note(`image ${image.reference} not verified: converge may not call ecr:DescribeImages on repository ${image.repository} (${describeAwsError(answer.error)})`);
      return problem(`could not check image ${image.reference}: ${describeAwsError(answer.error)}`);
    });
  }

  /** One DescribeImages call per repository and 100 images. */
  private async flushImages(items: EcrImage[]): Promise<ImageAnswer[]> {
    const groups = new Map<string, EcrImage[]>();
    for (const item of items) {
      const key = `${item.account}/${item.region}/${item.repository}`;
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    const answers = new Map<EcrImage, ImageAnswer>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const first = group[0] as EcrImage;
        try {
          const ids = group.map((image) => (image.digest !== undefined ? { imageDigest: image.digest } : { imageTag: image.tag ?? 'latest' }));
          const { findImages } = await reads();
          const found = await findImages(this.preflight.clientsFor(first.region).ecr, { registryId: first.account, repositoryName: first.repository, imageIds: ids });
          group.forEach((image, i) => answers.set(image, !found.repositoryExists ? 'no-repository' : found.found[i] ? 'found' : 'missing'));
        } catch (error) {
          for (const image of group) answers.set(image, { error });
        }
      }),
    );
    return items.map((item) => answers.get(item) ?? { error: new Error('no answer') });
  }

  // ---- secrets ---------------------------------------------------------------------------

  private secret(secret: SecretReference, req: WorkloadRequirements): Promise<Outcome> {
    if (req.account !== undefined && secret.account !== req.account) {
      return Promise.resolve(note(`${secret.valueFrom} belongs to account ${secret.account}, not the Environment's ${req.account}: not verified`));
    }
    if (secret.kind === 'ssm') {
      return this.cached(`ssm:${secret.account}/${secret.region}/${secret.name}`, false, async () => {
        const answer = await this.parameters.load(secret);
        if (answer === true) return OK;
        if (answer === false) return problem(`SSM parameter ${secret.name} is missing (account ${secret.account}, ${secret.region})`);
        if (isAccessDenied(answer.error)) return note(`SSM parameter ${secret.name} not verified: converge may not call ssm:DescribeParameters (${describeAwsError(answer.error)})`);
        return problem(`could not check SSM parameter ${secret.name}: ${describeAwsError(answer.error)}`);
      });
    }
    return this.cached(`secret:${secret.secretId}`, false, async () => {
      try {
        const { describeSecret } = await reads();
        const found = await describeSecret(this.preflight.clientsFor(secret.region).secretsManager, secret.secretId);
        if (!found) return problem(`Secrets Manager secret ${secret.secretId} is missing`);
        if (found.deletedDate) return problem(`Secrets Manager secret ${secret.secretId} is scheduled for deletion (since ${found.deletedDate.toISOString()}): ECS cannot read it`);
        return OK;
      } catch (error) {
        if (isAccessDenied(error)) return note(`Secrets Manager secret ${secret.secretId} not verified: converge may not call secretsmanager:DescribeSecret on it (${describeAwsError(error)})`);
        return problem(`could not check Secrets Manager secret ${secret.secretId}: ${describeAwsError(error)}`);
      }
    });
  }

  /** One DescribeParameters filter per region and 50 names: names and metadata only, never values. */
  private async flushParameters(items: Extract<SecretReference, { kind: 'ssm' }>[]): Promise<(boolean | { error: unknown })[]> {
    const regions = new Map<string, string[]>();
    for (const item of items) regions.set(item.region, [...(regions.get(item.region) ?? []), ...item.candidates]);
    const existing = new Map<string, Set<string> | { error: unknown }>();
    await Promise.all(
      [...regions].map(async ([region, names]) => {
        try {
          const { existingParameters } = await reads();
          existing.set(region, await existingParameters(this.preflight.clientsFor(region).ssm, names));
        } catch (error) {
          existing.set(region, { error });
        }
      }),
    );
    return items.map((item) => {
      const found = existing.get(item.region);
      if (!found) return { error: new Error('no answer') };
      return found instanceof Set ? item.candidates.some((name) => found.has(name)) : found;
    });
  }

  // ---- roles -----------------------------------------------------------------------------

  private role({ role, use, principal }: RoleRequirement): Promise<Outcome> {
    return this.cached(`role:${role.arn}:${principal}:${use}`, false, async () => {
      let live: LiveRole | undefined;
      try {
        let pending = this.roles.get(role.arn);
        if (!pending) {
          const iam = this.preflight.clientsFor(this.input.state.environment.spec.region).iam;
          pending = reads().then(({ getRole }) => getRole(iam, role.name));
          this.roles.set(role.arn, pending);
        }
        live = await pending;
      } catch (error) {
        if (isAccessDenied(error)) return note(`${use} ${role.arn} not verified: converge may not call iam:GetRole on it (${describeAwsError(error)})`);
        return problem(`could not check ${use} ${role.arn}: ${describeAwsError(error)}`);
      }
      if (!live) return problem(`${use} ${role.arn} is missing (IAM has no role ${role.name})`);
      const liveAccount = accountOfArn(live.arn);
      if (liveAccount !== undefined && liveAccount !== role.account) {
        return problem(`${use} ${role.arn} names account ${role.account}, but converge deploys into account ${liveAccount}: ECS and CodeDeploy take roles of their own account only`);
      }
      const trust = trustsService(live.assumeRolePolicyDocument, principal);
      if (trust.trusted) return OK;
      const allowed = trust.invalid ?? (trust.services.length > 0 ? `its trust policy allows ${trust.services.join(', ')}` : 'its trust policy allows no service');
      return problem(`${use} ${role.arn} does not trust ${principal} (${allowed})`);
    });
  }

  // ---- certificate -----------------------------------------------------------------------

  private certificate(cert: NonNullable<WorkloadRequirements['certificate']>, region: string): Promise<Outcome> {
    const where = `certificate ${cert.arn} of the ${cert.loadBalancer} load balancer`;
    const certRegion = certificateRegion(cert.arn);
    if (certRegion !== undefined && certRegion !== region) {
      return Promise.resolve(problem(`${where} is in ${certRegion}, not in the Environment's region ${region} (a load balancer takes certificates of its own region)`));
    }
    return this.cached(`certificate:${cert.arn}:${cert.domain.toLowerCase()}`, false, async () => {
      try {
        const { describeCertificateNames } = await reads();
        const found = await describeCertificateNames(this.preflight.clientsFor(region).acm, cert.arn);
        if (!found) return problem(`${where} is missing`);
        const problems: string[] = [];
        if (found.status !== 'ISSUED') problems.push(`${where} is ${found.status || 'in no known status'}, not ISSUED`);
        if (!certificateCovers(found.names, cert.domain)) problems.push(`${where} does not cover ${cert.domain} (it names ${found.names.join(', ') || 'no domain'})`);
        return { problems, notes: [] };
      } catch (error) {
        if (isAccessDenied(error)) return note(`${where} not verified: converge may not call acm:DescribeCertificate on it (${describeAwsError(error)})`);
        return problem(`could not check ${where}: ${describeAwsError(error)}`);
      }
    });
  }

  // ---- network ---------------------------------------------------------------------------

  private network(req: WorkloadRequirements): Promise<Outcome> {
    const { vpcId, subnets, needs } = req.network;
    const key = `network:${vpcId}:${[...subnets].sort().join(',')}:${stableStringify(needs)}`;
    return this.cached(key, false, async () => {
      try {
        const facts = await this.networkFacts(vpcId, subnets);
        return { problems: reachabilityProblems({ subnets, tables: facts.tables, endpoints: facts.endpoints, region: req.region, needs }), notes: [] };
      } catch (error) {
        if (isAccessDenied(error)) return note(`the routes of the private subnets not verified: converge may not call ec2:DescribeRouteTables or ec2:DescribeVpcEndpoints (${describeAwsError(error)})`);
        return problem(`could not check the routes of the private subnets: ${describeAwsError(error)}`);
      }
    });
  }

  /** The VPC's route tables, and its endpoints only when some subnet has no route out. */
  private networkFacts(vpcId: string, subnets: readonly string[]): Promise<NetworkFacts> {
    const key = `${vpcId}:${[...subnets].sort().join(',')}`;
    let pending = this.networks.get(key);
    if (!pending) {
      const ec2 = this.preflight.clientsFor(this.input.state.environment.spec.region).ec2;
      pending = (async () => {
        const { describeRouteTables, describeVpcEndpoints } = await reads();
        const tables = await describeRouteTables(ec2, vpcId);
        return needsEndpointFacts(subnets, tables) ? { tables, endpoints: await describeVpcEndpoints(ec2, vpcId) } : { tables };
      })();
      this.networks.set(key, pending);
    }
    return pending;
  }
}

function prefixed(outcome: Outcome, prefix: string): Outcome {
  return { problems: outcome.problems.map((p) => `${prefix}${p}`), notes: outcome.notes.map((n) => `${prefix}${n}`) };
}
