/** The Environment spec: region, cluster, network, DNS, load balancers, defaults, reconcile and IAM settings. */
import { z } from 'zod';
import { fullDeploymentSchema } from './deployment.js';
import { fieldsValid, nonEmptyString, onLists, onObjects, patternString, strictObject, uniqueItems } from './field-rules.js';
import { fullHealthCheckSchema } from './health-check.js';
import { DEFAULT_LOG_RETENTION_DAYS, logRetentionSchema, requiredRoleArnSchema, roleArnSchema } from './shared-fields.js';
import { quote } from './values.js';
import { environmentReconcileSchema, notificationsSchema, partialScalingSchema } from './lifecycle.js';

export const DEFAULT_INGRESS_CIDRS: readonly string[] = ['0.0.0.0/0'];

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/[A-Za-z0-9-]+$/;
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;

const regionSchema = patternString(REGION, (value) => `must be an AWS region like us-east-1, got ${quote(value)}`);

const dnsNameSchema = patternString(
  DNS_NAME,
  (value) => `must be a DNS name in lowercase like api.example.com (labels of letters, digits and "-", no trailing dot), got ${quote(value)}`,
);

export function certificateRegion(arn: string): string | undefined {
  return CERTIFICATE_ARN.exec(arn)?.[1];
}

/** The problem with an IPv4 CIDR, or undefined. Host bits must be zero so live rules compare equal. */
export function cidrProblem(cidr: string): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const prefix = Number(match?.[5]);
  const valid = match !== null && octets.every((octet, i) => octet <= 255 && String(octet) === match[i + 1]) && prefix <= 32;
  if (!valid) return `must be an IPv4 CIDR like 203.0.113.0/24, got ${quote(cidr)}`;
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  if (network === address) return undefined;
  const canonical = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join('.');
  return `${quote(cidr)} has host bits set; write ${canonical}/${prefix}`;
}

const loadBalancerSchema = strictObject({
  domain: dnsNameSchema,
  certificateArn: z.string().refine((value) => value === 'auto' || CERTIFICATE_ARN.test(value), {
    error: 'must be "auto" (request and DNS-validate a certificate) or an ACM certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/<id>',
  }),
  ingressCidrs: z
    .array(
      z.string().superRefine((cidr, ctx) => {
        const problem = cidrProblem(cidr);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, input: undefined });
      }),
    )
    .refine((cidrs) => cidrs.length > 0, { error: 'needs at least one CIDR; leave the field out to admit everyone (0.0.0.0/0)', ...onLists })
    .superRefine(uniqueItems('CIDR'), onLists)
    .default([...DEFAULT_INGRESS_CIDRS]),
});

function exactlyOne<K extends string>(keys: readonly [K, K], what: string) {
  return (ref: Partial<Record<K, unknown>>, ctx: z.core.$RefinementCtx): void => {
    const present = keys.filter((key) => ref[key] !== undefined);
    if (present.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `${what} must have exactly one of ${keys.join(' or ')}`, input: undefined });
    }
  };
}

function awsRefSchema(resource: 'vpc' | 'subnet') {
  const idPattern = new RegExp(`^${resource}-[0-9a-f]+$`);
  return strictObject({
    id: patternString(idPattern, (value) => `must be a ${resource} id like ${resource}-0123456789abcdef0, got ${quote(value)}`).optional(),
    name: nonEmptyString('Name tag').optional(),
  }).superRefine(exactlyOne(['id', 'name'], `a ${resource} reference`), onObjects);
}

function subnetListSchema(minimum: number, purpose: string) {
  return z
    .array(awsRefSchema('subnet'))
    .refine((subnets) => subnets.length >= minimum, {
      error: (issue) => `needs at least ${minimum} subnet${minimum === 1 ? '' : 's'} ${purpose}, got ${Array.isArray(issue.input) ? issue.input.length : 0}`,
      ...onLists,
    })
    .superRefine(uniqueItems('subnet'), onLists);
}

const networkSchema = strictObject({
  vpc: awsRefSchema('vpc'),
  privateSubnets: subnetListSchema(1, '(where tasks and the internal NLB run)'),
  publicSubnets: subnetListSchema(2, '(an ALB needs subnets in at least two Availability Zones)'),
});

const dnsSchema = strictObject({
  zone: dnsNameSchema.optional(),
  zoneId: patternString(ZONE_ID, (value) => `must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ, got ${quote(value)}`).optional(),
}).superRefine(exactlyOne(['zone', 'zoneId'], 'dns'), onObjects);

export const environmentDefaultsSchema = strictObject({
  logRetentionDays: logRetentionSchema.default(DEFAULT_LOG_RETENTION_DAYS),
  healthCheck: fullHealthCheckSchema.prefault({}),
  deployment: fullDeploymentSchema.prefault({}),
  /** Merged under every workload's own scaling; with minCount, maxCount and a target, every workload scales. */
  scaling: partialScalingSchema.optional(),
});

type LoadBalancerInput = z.output<typeof loadBalancerSchema>;

function checkLoadBalancers(
  spec: { region: string; dns: { zone?: string }; loadBalancers: { backend: LoadBalancerInput; frontend: LoadBalancerInput } },
  ctx: z.core.$RefinementCtx,
): void {
  // Guards come first, before the values they protect are read (they may be missing or
  // mistyped) and before this rule adds issues of its own.
  const roles = ['backend', 'frontend'] as const;
  const domainPath = (role: (typeof roles)[number]) => ['loadBalancers', role, 'domain'];
  const certificatePath = (role: (typeof roles)[number]) => ['loadBalancers', role, 'certificateArn'];
  const checkZone = roles.filter((role) => fieldsValid(ctx, ['dns'], domainPath(role)));
  const checkRegion = roles.filter((role) => fieldsValid(ctx, ['region'], certificatePath(role)));
  const checkShared = fieldsValid(ctx, domainPath('backend'), domainPath('frontend'));
  const zone = checkZone.length > 0 ? spec.dns.zone : undefined;
  for (const role of checkZone) {
    const name = spec.loadBalancers[role].domain;
    if (zone !== undefined && name !== zone && !name.endsWith(`.${zone}`)) {
      ctx.addIssue({ code: 'custom', path: domainPath(role), message: `${quote(name)} is not inside the hosted zone ${zone}`, input: undefined });
    }
  }
  for (const role of checkRegion) {
    const certRegion = certificateRegion(spec.loadBalancers[role].certificateArn);
    if (certRegion !== undefined && certRegion !== spec.region) {
      const message = `the certificate is in ${certRegion}, but an ALB can only use a certificate from its own region ${spec.region}`;
      ctx.addIssue({ code: 'custom', path: certificatePath(role), message, input: undefined });
    }
  }
  if (checkShared && spec.loadBalancers.backend.domain === spec.loadBalancers.frontend.domain) {
    const message = `the backend and frontend load balancers cannot share the domain ${spec.loadBalancers.backend.domain}`;
    ctx.addIssue({ code: 'custom', path: domainPath('frontend'), message, input: undefined });
  }
}

export const environmentSpecSchema = strictObject({
  region: regionSchema,
  cluster: strictObject({
    name: patternString(CLUSTER_NAME, (value) => `must be 1 to 255 letters, digits, "-" or "_" (an ECS cluster name), got ${quote(value)}`).optional(),
    containerInsights: z.boolean().default(true),
  }).prefault({}),
  network: networkSchema,
  dns: dnsSchema,
  loadBalancers: strictObject({ backend: loadBalancerSchema, frontend: loadBalancerSchema }),
  defaults: environmentDefaultsSchema.prefault({}),
  reconcile: environmentReconcileSchema.prefault({}),
  notifications: notificationsSchema.optional(),
  iam: strictObject({
    // ECS: a Fargate task needs an execution role for the awslogs driver every workload uses, and for secrets (ECS developer guide, "Task execution IAM role")
    executionRoleArn: requiredRoleArnSchema(
      'required: the task execution role, which Fargate needs to send the logs of every workload to CloudWatch (awslogs driver) and to read secrets; ECS refuses such task definitions without it',
    ),
    taskRoleArn: roleArnSchema.optional(),
    codeDeployRoleArn: roleArnSchema.optional(),
    // A missing iam reads as an empty one, so that the missing execution role is named at its own path.
  }).prefault({} as { executionRoleArn: string }),
}).superRefine(checkLoadBalancers, onObjects);

export type EnvironmentSpecInput = z.output<typeof environmentSpecSchema>;
export type EnvironmentDefaultsInput = z.output<typeof environmentDefaultsSchema>;
