/**
 * The one list of AWS operations converge sends, and the IAM actions each needs, with where
 * each action can be scoped. `converge iam-policy` prints its policy from this list alone, and
 * test/unit/aws/iam-actions.test.ts keeps it equal to the `new <Operation>Command(` calls of the
 * adapters in this folder: an operation the code sends is in here, and nothing else is.
 *
 * Sources, checked when this list was written:
 * - The AWS Service Authorization Reference (SAR), "API operations defined by <service>" (which
 *   IAM actions one API call authorizes) and "Actions defined by <service>" (resource types and
 *   condition keys per action): https://docs.aws.amazon.com/service-authorization/latest/reference/
 *   and its programmatic form https://servicereference.us-east-1.amazonaws.com/v1/<service>/<service>.json
 *   (`Operations[].AuthorizedActions`, `Actions[].Resources`). An action whose SAR entry lists no
 *   resource type supports no resource-level permission and gets `Resource: "*"`.
 * - The tag-on-create pages cited at each `TAG_ON_CREATE` entry below.
 *
 * Where the SAR names an action an operation may authorize only for parameters converge never
 * sends, it is left out: CreateService and UpdateService list iam:PassRole, for their role
 * parameters (`role`, EBS volume, VPC Lattice and deployment hook roles), none of which converge
 * sets; GetObject lists s3:GetObjectVersion/Retention/LegalHold/Tagging (version ids, Object Lock),
 * PutObject s3:PutObjectAcl/Tagging/Retention/LegalHold (ACL, tagging and Object Lock headers),
 * DeleteObject s3:DeleteObjectVersion (version ids), ListObjectsV2 s3:GetObjectAcl; converge sends
 * plain keys, no version ids, ACLs, tags or locks.
 */
import type { DesiredRecordSet } from './route53.js';

/** Service names as the call counter records them (`ECS:DescribeServices`, see clients.ts). */
export type AwsService = 'ECS' | 'ELBv2' | 'EC2' | 'Logs' | 'ACM' | 'Route53' | 'CodeDeploy' | 'S3' | 'ApplicationAutoScaling' | 'SNS' | 'SecretsManager' | 'ECR' | 'SSM' | 'IAM' | 'Tagging';

export interface AwsServiceInfo {
  /** The SDK package whose commands the adapters send. */
  sdkPackage: string;
  /** The IAM service prefix: IAM action names are `<prefix>:<OperationName>` (S3 aside). */
  iamPrefix: string;
}

export const AWS_SERVICES: Readonly<Record<AwsService, AwsServiceInfo>> = {
  ECS: { sdkPackage: '@aws-sdk/client-ecs', iamPrefix: 'ecs' },
  ELBv2: { sdkPackage: '@aws-sdk/client-elastic-load-balancing-v2', iamPrefix: 'elasticloadbalancing' },
  EC2: { sdkPackage: '@aws-sdk/client-ec2', iamPrefix: 'ec2' },
  Logs: { sdkPackage: '@aws-sdk/client-cloudwatch-logs', iamPrefix: 'logs' },
  ACM: { sdkPackage: '@aws-sdk/client-acm', iamPrefix: 'acm' },
  Route53: { sdkPackage: '@aws-sdk/client-route-53', iamPrefix: 'route53' },
  CodeDeploy: { sdkPackage: '@aws-sdk/client-codedeploy', iamPrefix: 'codedeploy' },
  S3: { sdkPackage: '@aws-sdk/client-s3', iamPrefix: 's3' },
  SNS: { sdkPackage: '@aws-sdk/client-sns', iamPrefix: 'sns' },
  SecretsManager: { sdkPackage: '@aws-sdk/client-secrets-manager', iamPrefix: 'secretsmanager' },
  ApplicationAutoScaling: { sdkPackage: '@aws-sdk/client-application-auto-scaling', iamPrefix: 'application-autoscaling' },
  ECR: { sdkPackage: '@aws-sdk/client-ecr', iamPrefix: 'ecr' },
  SSM: { sdkPackage: '@aws-sdk/client-ssm', iamPrefix: 'ssm' },
  IAM: { sdkPackage: '@aws-sdk/client-iam', iamPrefix: 'iam' },
  Tagging: { sdkPackage: '@aws-sdk/client-resource-groups-tagging-api', iamPrefix: 'tag' },
};

/**
 * S3's IAM actions are not named after its operations (SAR, Amazon S3, "API operations"):
 * the operations converge sends, and the one action each needs for the parameters it sends.
 */
export const S3_ACTION_OF_OPERATION: Readonly<Record<string, string>> = {
  ListObjectsV2: 's3:ListBucket',
  GetObject: 's3:GetObject',
  PutObject: 's3:PutObject',
  DeleteObject: 's3:DeleteObject',
};

/**
 * What one statement of the policy applies to: its resources and condition, computed from a
 * `PolicyScope`. A grant names one; every action granted on the same target shares a statement.
 */
export type TargetId =
  | 'ecs-any'
  | 'ecs-cluster'
  | 'ecs-services'
  | 'ecs-task-definitions'
  | 'elb-any'
  | 'elb-load-balancers'
  | 'elb-listeners'
  | 'elb-target-groups'
  | 'ec2-any'
  | 'ec2-create-security-group'
  | 'ec2-tag-new-security-group'
  | 'ec2-owned-security-groups'
  | 'logs-any'
  | 'logs-log-groups'
  | 'acm-any'
  | 'acm-certificates'
  | 'acm-owned-certificates'
  | 'route53-any'
  | 'route53-zone'
  | 'route53-owned-records'
  | 'codedeploy-any'
  | 'codedeploy-application'
  | 'codedeploy-deployment-groups'
  | 'codedeploy-deployment-configs'
  | 's3-buckets'
  | 's3-read-objects'
  | 's3-write-objects'
  | 's3-lease'
  | 's3-status'
  | 'sns-topics'
  | 'secretsmanager-webhook-secrets'
  | 'secretsmanager-workload-secrets'
  | 'ecr-repositories'
  | 'ssm-any'
  | 'iam-read-roles'
  | 'tagging-any'
  | 'aas-any'
  | 'aas-scalable-targets'
  | 'cloudwatch-target-tracking-alarms'
  | 'iam-pass-task-roles'
  | 'iam-pass-codedeploy-role'
  | 'iam-service-linked-roles';

export interface IamGrant {
  /** `prefix:Action`. */
  action: string;
  target: TargetId;
  /** Why an action other than the operation's own is needed, and where AWS says so. */
  because?: string;
}

export interface OperationPermissions {
  service: AwsService;
  /** The API operation: the SDK command's name without `Command`. */
  operation: string;
  /** The operation's own action first, then the actions AWS also authorizes for the call. */
  grants: readonly IamGrant[];
}

/** Additional authorization AWS performs when a create call carries tags. */
const TAG_ON_CREATE = {
  ecs: 'tags on create: "To allow tagging on creation ... include both the permissions to use the action that creates the resource ... and the ecs:TagResource action" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html; SAR: CreateCluster, CreateService and RegisterTaskDefinition authorize ecs:TagResource)',
  elb: 'tags on create: "If tags are specified in the resource-creating action, additional authorization is required on the elasticloadbalancing:AddTags action" (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html; SAR: CreateLoadBalancer, CreateTargetGroup and CreateListener authorize elasticloadbalancing:AddTags)',
  ec2: 'TagSpecifications on create: "Amazon performs additional authorization on the ec2:CreateTags action" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html; SAR: CreateSecurityGroup authorizes ec2:CreateTags)',
  logs: 'tags on create: "To assign tags when you create a log group, you must have either the logs:TagResource or logs:TagLogGroup permission" (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html; SAR: CreateLogGroup authorizes both)',
  acm: 'tags on create (SAR, AWS Certificate Manager, API operations: RequestCertificate authorizes acm:AddTagsToCertificate and acm:RequestCertificate)',
  codedeploy: 'tags on create (SAR, AWS CodeDeploy, API operations: CreateApplication and CreateDeploymentGroup authorize codedeploy:TagResource)',
} as const;

const SERVICE_LINKED_ROLE = {
  ecs: 'a fresh account has no ECS service-linked role: "When you call the CreateCluster API operation, Amazon ECS attempts to create the Amazon ECS service-linked role for your account" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html; creating a service does the same, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html)',
  elb: 'a fresh account has no ELB service-linked role: "Elastic Load Balancing creates this role for you when you create a load balancer or a target group" (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html)',
} as const;

/**
 * What Application Auto Scaling needs of its caller besides its own actions ("IAM permissions required
 * for Amazon ECS service auto scaling", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/auto-scaling-IAM.html).
 */
const AUTO_SCALING = {
  serviceLinkedRole:
    'a fresh account has no Application Auto Scaling role for ECS: "Application Auto Scaling requires permissions to create a service-linked role the first time any user in your AWS account calls RegisterScalableTarget for a given service" (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html): AWSServiceRoleForApplicationAutoScaling_ECSService, trusted by ecs.application-autoscaling.amazonaws.com',
  alarms:
    'a target tracking policy creates, updates and deletes its CloudWatch alarms: "alarms are created with CloudWatch" and the caller needs cloudwatch:DescribeAlarms, PutMetricAlarm and DeleteAlarms (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/auto-scaling-IAM.html)',
  tagOnCreate: 'tags on create: RegisterScalableTarget with Tags also authorizes application-autoscaling:TagResource (SAR, Application Auto Scaling, API operations)',
} as const;

const PASS_ROLE = {
  ecsTasks: 'the task definition names the execution role and the task role (SAR: RegisterTaskDefinition authorizes iam:PassRole)',
  codeDeploy: 'the deployment group names the CodeDeploy service role (SAR: CreateDeploymentGroup and UpdateDeploymentGroup authorize iam:PassRole)',
} as const;

const CREATE_DEPLOYMENT =
  'SAR, AWS CodeDeploy, API operations: CreateDeployment authorizes codedeploy:CreateDeployment, GetApplicationRevision, GetDeploymentConfig, RegisterApplicationRevision and UpdateDeploymentGroup';

const grant = (action: string, target: TargetId, because?: string): IamGrant => (because === undefined ? { action, target } : { action, target, because });
const op = (service: AwsService, operation: string, grants: IamGrant[]): OperationPermissions => ({ service, operation, grants });

/** Every operation the adapters in src/aws send, by service, in the adapters' order of files. */
export const IAM_OPERATIONS: readonly OperationPermissions[] = [
  // ecs.ts
  op('ECS', 'CreateCluster', [
    grant('ecs:CreateCluster', 'ecs-cluster'),
    grant('ecs:TagResource', 'ecs-cluster', TAG_ON_CREATE.ecs),
    grant('iam:CreateServiceLinkedRole', 'iam-service-linked-roles', SERVICE_LINKED_ROLE.ecs),
  ]),
  op('ECS', 'CreateService', [
    grant('ecs:CreateService', 'ecs-services'),
    grant('ecs:TagResource', 'ecs-services', TAG_ON_CREATE.ecs),
    grant('iam:CreateServiceLinkedRole', 'iam-service-linked-roles', SERVICE_LINKED_ROLE.ecs),
  ]),
  op('ECS', 'DeleteService', [grant('ecs:DeleteService', 'ecs-services')]),
  op('ECS', 'DeleteCluster', [grant('ecs:DeleteCluster', 'ecs-cluster')]),
  op('ECS', 'ListServices', [grant('ecs:ListServices', 'ecs-any')]),
  op('ECS', 'DescribeClusters', [grant('ecs:DescribeClusters', 'ecs-cluster')]),
  op('ECS', 'DescribeServices', [grant('ecs:DescribeServices', 'ecs-services')]),
  // SAR: no resource type for ecs:DescribeTaskDefinition.
  op('ECS', 'DescribeTaskDefinition', [grant('ecs:DescribeTaskDefinition', 'ecs-any')]),
  op('ECS', 'PutClusterCapacityProviders', [grant('ecs:PutClusterCapacityProviders', 'ecs-cluster')]),
  op('ECS', 'RegisterTaskDefinition', [
    grant('ecs:RegisterTaskDefinition', 'ecs-task-definitions'),
    grant('ecs:TagResource', 'ecs-task-definitions', TAG_ON_CREATE.ecs),
    grant('iam:PassRole', 'iam-pass-task-roles', PASS_ROLE.ecsTasks),
  ]),
  // converge tags clusters and services it owns (the spec hash, deployment records).
  op('ECS', 'TagResource', [grant('ecs:TagResource', 'ecs-cluster'), grant('ecs:TagResource', 'ecs-services')]),
  op('ECS', 'UpdateClusterSettings', [grant('ecs:UpdateClusterSettings', 'ecs-cluster')]),
  op('ECS', 'UpdateService', [grant('ecs:UpdateService', 'ecs-services')]),
  // Prune and destroy of task definitions: the listings have no resource type; the writes are scoped to
  // the environment's families like RegisterTaskDefinition, and converge reads each revision's ownership
  // tag before it deregisters it.
  op('ECS', 'ListTaskDefinitionFamilies', [grant('ecs:ListTaskDefinitionFamilies', 'ecs-any')]),
  op('ECS', 'ListTaskDefinitions', [grant('ecs:ListTaskDefinitions', 'ecs-any')]),
  op('ECS', 'DeregisterTaskDefinition', [grant('ecs:DeregisterTaskDefinition', 'ecs-task-definitions')]),
  op('ECS', 'DeleteTaskDefinitions', [grant('ecs:DeleteTaskDefinitions', 'ecs-task-definitions')]),

  // elbv2.ts
  op('ELBv2', 'AddTags', [
    grant('elasticloadbalancing:AddTags', 'elb-load-balancers'),
    grant('elasticloadbalancing:AddTags', 'elb-listeners'),
    grant('elasticloadbalancing:AddTags', 'elb-target-groups'),
  ]),
  op('ELBv2', 'CreateListener', [
    grant('elasticloadbalancing:CreateListener', 'elb-load-balancers'),
    grant('elasticloadbalancing:AddTags', 'elb-listeners', TAG_ON_CREATE.elb),
  ]),
  op('ELBv2', 'CreateLoadBalancer', [
    grant('elasticloadbalancing:CreateLoadBalancer', 'elb-load-balancers'),
    grant('elasticloadbalancing:AddTags', 'elb-load-balancers', TAG_ON_CREATE.elb),
    grant('iam:CreateServiceLinkedRole', 'iam-service-linked-roles', SERVICE_LINKED_ROLE.elb),
  ]),
  op('ELBv2', 'CreateTargetGroup', [
    grant('elasticloadbalancing:CreateTargetGroup', 'elb-target-groups'),
    grant('elasticloadbalancing:AddTags', 'elb-target-groups', TAG_ON_CREATE.elb),
    grant('iam:CreateServiceLinkedRole', 'iam-service-linked-roles', SERVICE_LINKED_ROLE.elb),
  ]),
  // SAR: no resource type for the ELBv2 describes.
  op('ELBv2', 'DescribeListeners', [grant('elasticloadbalancing:DescribeListeners', 'elb-any')]),
  op('ELBv2', 'DeleteListener', [grant('elasticloadbalancing:DeleteListener', 'elb-listeners')]),
  op('ELBv2', 'DeleteLoadBalancer', [grant('elasticloadbalancing:DeleteLoadBalancer', 'elb-load-balancers')]),
  op('ELBv2', 'DeleteTargetGroup', [grant('elasticloadbalancing:DeleteTargetGroup', 'elb-target-groups')]),
  op('ELBv2', 'DescribeLoadBalancerAttributes', [grant('elasticloadbalancing:DescribeLoadBalancerAttributes', 'elb-any')]),
  op('ELBv2', 'DescribeLoadBalancers', [grant('elasticloadbalancing:DescribeLoadBalancers', 'elb-any')]),
  op('ELBv2', 'DescribeTags', [grant('elasticloadbalancing:DescribeTags', 'elb-any')]),
  op('ELBv2', 'DescribeTargetGroups', [grant('elasticloadbalancing:DescribeTargetGroups', 'elb-any')]),
  op('ELBv2', 'ModifyListener', [grant('elasticloadbalancing:ModifyListener', 'elb-listeners')]),
  op('ELBv2', 'ModifyLoadBalancerAttributes', [grant('elasticloadbalancing:ModifyLoadBalancerAttributes', 'elb-load-balancers')]),
  op('ELBv2', 'ModifyTargetGroup', [grant('elasticloadbalancing:ModifyTargetGroup', 'elb-target-groups')]),
  op('ELBv2', 'SetSecurityGroups', [grant('elasticloadbalancing:SetSecurityGroups', 'elb-load-balancers')]),
  op('ELBv2', 'SetSubnets', [grant('elasticloadbalancing:SetSubnets', 'elb-load-balancers')]),

  // ec2.ts
  op('EC2', 'AuthorizeSecurityGroupIngress', [grant('ec2:AuthorizeSecurityGroupIngress', 'ec2-owned-security-groups')]),
  op('EC2', 'CreateSecurityGroup', [
    grant('ec2:CreateSecurityGroup', 'ec2-create-security-group'),
    grant('ec2:CreateTags', 'ec2-tag-new-security-group', TAG_ON_CREATE.ec2),
  ]),
  op('EC2', 'CreateTags', [grant('ec2:CreateTags', 'ec2-owned-security-groups')]),
  // SAR: no resource type for the EC2 describes.
  op('EC2', 'DescribeSecurityGroups', [grant('ec2:DescribeSecurityGroups', 'ec2-any')]),
  op('EC2', 'DeleteSecurityGroup', [grant('ec2:DeleteSecurityGroup', 'ec2-owned-security-groups')]),
  op('EC2', 'RevokeSecurityGroupIngress', [grant('ec2:RevokeSecurityGroupIngress', 'ec2-owned-security-groups')]),
  // network.ts
  op('EC2', 'DescribeSubnets', [grant('ec2:DescribeSubnets', 'ec2-any')]),
  op('EC2', 'DescribeVpcs', [grant('ec2:DescribeVpcs', 'ec2-any')]),

  // logs.ts
  op('Logs', 'CreateLogGroup', [
    grant('logs:CreateLogGroup', 'logs-log-groups'),
    grant('logs:TagResource', 'logs-log-groups', TAG_ON_CREATE.logs),
    grant('logs:TagLogGroup', 'logs-log-groups', TAG_ON_CREATE.logs),
  ]),
  op('Logs', 'DeleteRetentionPolicy', [grant('logs:DeleteRetentionPolicy', 'logs-log-groups')]),
  op('Logs', 'DeleteLogGroup', [grant('logs:DeleteLogGroup', 'logs-log-groups')]),
  // SAR: no resource type for logs:DescribeLogGroups.
  op('Logs', 'DescribeLogGroups', [grant('logs:DescribeLogGroups', 'logs-any')]),
  op('Logs', 'ListTagsForResource', [grant('logs:ListTagsForResource', 'logs-log-groups')]),
  op('Logs', 'PutRetentionPolicy', [grant('logs:PutRetentionPolicy', 'logs-log-groups')]),
  op('Logs', 'TagResource', [grant('logs:TagResource', 'logs-log-groups')]),

  // acm.ts
  op('ACM', 'DescribeCertificate', [grant('acm:DescribeCertificate', 'acm-certificates')]),
  op('ACM', 'DeleteCertificate', [grant('acm:DeleteCertificate', 'acm-owned-certificates')]),
  // SAR: no resource type for acm:ListCertificates and acm:RequestCertificate.
  op('ACM', 'ListCertificates', [grant('acm:ListCertificates', 'acm-any')]),
  op('ACM', 'ListTagsForCertificate', [grant('acm:ListTagsForCertificate', 'acm-certificates')]),
  op('ACM', 'RequestCertificate', [grant('acm:RequestCertificate', 'acm-any'), grant('acm:AddTagsToCertificate', 'acm-certificates', TAG_ON_CREATE.acm)]),

  // route53.ts
  op('Route53', 'ChangeResourceRecordSets', [grant('route53:ChangeResourceRecordSets', 'route53-owned-records')]),
  op('Route53', 'ListResourceRecordSets', [grant('route53:ListResourceRecordSets', 'route53-zone')]),
  // network.ts
  op('Route53', 'GetHostedZone', [grant('route53:GetHostedZone', 'route53-zone')]),
  // SAR: no resource type for route53:ListHostedZonesByName.
  op('Route53', 'ListHostedZonesByName', [grant('route53:ListHostedZonesByName', 'route53-any')]),

  // codedeploy.ts
  op('CodeDeploy', 'BatchGetDeploymentGroups', [grant('codedeploy:BatchGetDeploymentGroups', 'codedeploy-deployment-groups')]),
  // SAR: authorized per deployment group. The active deployments of the whole account are listed,
  // and a batch holding another group's deployment is refused: batchGetDeployments then reads one id
  // at a time and skips the ones refused, so converge needs to read only its own groups' deployments.
  op('CodeDeploy', 'BatchGetDeployments', [grant('codedeploy:BatchGetDeployments', 'codedeploy-deployment-groups')]),
  op('CodeDeploy', 'CreateApplication', [
    grant('codedeploy:CreateApplication', 'codedeploy-application'),
    grant('codedeploy:TagResource', 'codedeploy-application', TAG_ON_CREATE.codedeploy),
  ]),
  op('CodeDeploy', 'CreateDeployment', [
    grant('codedeploy:CreateDeployment', 'codedeploy-deployment-groups'),
    grant('codedeploy:GetDeploymentConfig', 'codedeploy-deployment-configs', CREATE_DEPLOYMENT),
    grant('codedeploy:GetApplicationRevision', 'codedeploy-application', CREATE_DEPLOYMENT),
    grant('codedeploy:RegisterApplicationRevision', 'codedeploy-application', CREATE_DEPLOYMENT),
    grant('codedeploy:UpdateDeploymentGroup', 'codedeploy-deployment-groups', CREATE_DEPLOYMENT),
  ]),
  op('CodeDeploy', 'CreateDeploymentGroup', [
    grant('codedeploy:CreateDeploymentGroup', 'codedeploy-deployment-groups'),
    grant('codedeploy:TagResource', 'codedeploy-deployment-groups', TAG_ON_CREATE.codedeploy),
    grant('iam:PassRole', 'iam-pass-codedeploy-role', PASS_ROLE.codeDeploy),
  ]),
  op('CodeDeploy', 'DeleteDeploymentGroup', [grant('codedeploy:DeleteDeploymentGroup', 'codedeploy-deployment-groups')]),
  op('CodeDeploy', 'DeleteApplication', [grant('codedeploy:DeleteApplication', 'codedeploy-application')]),
  op('CodeDeploy', 'GetApplication', [grant('codedeploy:GetApplication', 'codedeploy-application')]),
  // A custom deployment config is looked up before anything is written (src/source/deployment-configs.ts).
  op('CodeDeploy', 'GetDeploymentConfig', [grant('codedeploy:GetDeploymentConfig', 'codedeploy-deployment-configs')]),
  // Sent without application and group (the API takes both or neither), so no group ARN can scope it.
  op('CodeDeploy', 'ListDeployments', [grant('codedeploy:ListDeployments', 'codedeploy-any')]),
  op('CodeDeploy', 'ListDeploymentGroups', [grant('codedeploy:ListDeploymentGroups', 'codedeploy-application')]),
  op('CodeDeploy', 'ListTagsForResource', [grant('codedeploy:ListTagsForResource', 'codedeploy-application'), grant('codedeploy:ListTagsForResource', 'codedeploy-deployment-groups')]),
  op('CodeDeploy', 'TagResource', [grant('codedeploy:TagResource', 'codedeploy-application'), grant('codedeploy:TagResource', 'codedeploy-deployment-groups')]),
  op('CodeDeploy', 'UpdateDeploymentGroup', [
    grant('codedeploy:UpdateDeploymentGroup', 'codedeploy-deployment-groups'),
    grant('iam:PassRole', 'iam-pass-codedeploy-role', PASS_ROLE.codeDeploy),
  ]),

  // s3.ts (see S3_ACTION_OF_OPERATION)
  op('S3', 'DeleteObject', [grant('s3:DeleteObject', 's3-write-objects')]),
  op('S3', 'GetObject', [grant('s3:GetObject', 's3-read-objects')]),
  op('S3', 'ListObjectsV2', [grant('s3:ListBucket', 's3-buckets')]),
  op('S3', 'PutObject', [grant('s3:PutObject', 's3-write-objects'), grant('s3:PutObject', 's3-lease', 'the writer lease: one object created and renewed with conditional writes'),
    grant('s3:PutObject', 's3-status', 'the status document the daemon writes beside the desired state (`converge status` reads it)'),
  ]),

  // sns.ts, secrets.ts: notifications (src/notify/), only when the Environment configures them
  op('SNS', 'Publish', [grant('sns:Publish', 'sns-topics')]),
  op('SecretsManager', 'GetSecretValue', [grant('secretsmanager:GetSecretValue', 'secretsmanager-webhook-secrets')]),

  // Preflight (src/preflight/), reads of metadata only, before a workload's revision is registered or deployed:
  // ecr.ts, ssm.ts, secret-metadata.ts, iam.ts, route-tables.ts (acm-names.ts sends DescribeCertificate, listed above).
  op('ECR', 'DescribeImages', [grant('ecr:DescribeImages', 'ecr-repositories')]),
  // SAR: no resource type for ssm:DescribeParameters. It answers names and metadata, never a value (GetParameters would).
  op('SSM', 'DescribeParameters', [grant('ssm:DescribeParameters', 'ssm-any')]),
  op('SecretsManager', 'DescribeSecret', [grant('secretsmanager:DescribeSecret', 'secretsmanager-workload-secrets')]),
  op('IAM', 'GetRole', [grant('iam:GetRole', 'iam-read-roles')]),
  op('EC2', 'DescribeRouteTables', [grant('ec2:DescribeRouteTables', 'ec2-any')]),
  op('EC2', 'DescribeVpcEndpoints', [grant('ec2:DescribeVpcEndpoints', 'ec2-any')]),

  // tagging.ts: the environment's tags in bulk. SAR: no resource type for tag:GetResources.
  op('Tagging', 'GetResources', [grant('tag:GetResources', 'tagging-any')]),

  // application-autoscaling.ts
  op('ApplicationAutoScaling', 'DeleteScalingPolicy', [
    grant('application-autoscaling:DeleteScalingPolicy', 'aas-scalable-targets'),
    grant('cloudwatch:DeleteAlarms', 'cloudwatch-target-tracking-alarms', AUTO_SCALING.alarms),
  ]),
  op('ApplicationAutoScaling', 'DeregisterScalableTarget', [
    grant('application-autoscaling:DeregisterScalableTarget', 'aas-scalable-targets'),
    grant('cloudwatch:DeleteAlarms', 'cloudwatch-target-tracking-alarms', AUTO_SCALING.alarms),
  ]),
  // SAR: no resource type for the Application Auto Scaling describes.
  op('ApplicationAutoScaling', 'DescribeScalableTargets', [grant('application-autoscaling:DescribeScalableTargets', 'aas-any')]),
  op('ApplicationAutoScaling', 'DescribeScalingPolicies', [grant('application-autoscaling:DescribeScalingPolicies', 'aas-any')]),
  op('ApplicationAutoScaling', 'ListTagsForResource', [grant('application-autoscaling:ListTagsForResource', 'aas-scalable-targets')]),
  op('ApplicationAutoScaling', 'PutScalingPolicy', [
    grant('application-autoscaling:PutScalingPolicy', 'aas-scalable-targets'),
    grant('cloudwatch:DescribeAlarms', 'cloudwatch-target-tracking-alarms', AUTO_SCALING.alarms),
    grant('cloudwatch:PutMetricAlarm', 'cloudwatch-target-tracking-alarms', AUTO_SCALING.alarms),
    grant('cloudwatch:DeleteAlarms', 'cloudwatch-target-tracking-alarms', AUTO_SCALING.alarms),
  ]),
  op('ApplicationAutoScaling', 'RegisterScalableTarget', [
    grant('application-autoscaling:RegisterScalableTarget', 'aas-scalable-targets'),
    grant('application-autoscaling:TagResource', 'aas-scalable-targets', AUTO_SCALING.tagOnCreate),
    grant('iam:CreateServiceLinkedRole', 'iam-service-linked-roles', AUTO_SCALING.serviceLinkedRole),
  ]),
  op('ApplicationAutoScaling', 'TagResource', [grant('application-autoscaling:TagResource', 'aas-scalable-targets')]),
];

/** `Service:Operation`, the key the call counter uses (`callsByOperation`). */
export const operationKey = (service: AwsService, operation: string): string => `${service}:${operation}`;

/** The list's entry for a counted call (`ECS:DescribeServices`), or undefined. */
export function permissionsOf(key: string): OperationPermissions | undefined {
  return IAM_OPERATIONS.find((entry) => operationKey(entry.service, entry.operation) === key);
}

/**
 * Route 53 record sets converge writes: the only change action (`toUpsert`) and record types
 * (`DesiredRecordSet`). ChangeResourceRecordSets is conditioned on them.
 */
export const ROUTE53_CHANGE_ACTIONS = ['UPSERT', 'DELETE'] as const;
export const ROUTE53_RECORD_TYPES = ['A', 'CNAME', 'TXT'] as const;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// Fails to compile when route53.ts writes a record type the policy does not allow (or no longer writes one it allows).
const recordTypesMatch: Same<DesiredRecordSet['type'], (typeof ROUTE53_RECORD_TYPES)[number]> = true;
void recordTypesMatch;

// ---------------------------------------------------------------------------------------------
// Scopes and statements
// ---------------------------------------------------------------------------------------------

/**
 * Names and ARNs the policy is scoped to. Every name may be an IAM wildcard pattern (`*`); the
 * account is always `*` (converge cannot know it offline, and `${aws:PrincipalAccount}` is not
 * valid in every Resource element). Built by `converge iam-policy` from the desired state.
 */
export interface PolicyScope {
  partition: string;
  region: string;
  /** Name of the ownership tag (`converge:environment`) and its value; no value: the tag must exist. */
  ownershipTag: { key: string; value?: string };
  cluster: string;
  services: string[];
  taskFamilies: string[];
  applicationLoadBalancers: string[];
  networkLoadBalancers: string[];
  targetGroups: string[];
  logGroups: string[];
  vpcId: string;
  hostedZoneId: string;
  /** Normalized record names converge may change (lowercase, no trailing dot); undefined: any. */
  recordNames?: string[];
  codeDeployApplication: string;
  deploymentGroups: string[];
  deploymentConfigs: string[];
  /** Buckets listed and the key prefixes listed in them; an empty list: the whole bucket. */
  listBuckets: { bucket: string; prefixes: string[] }[];
  /** `bucket/key-pattern`. */
  readObjects: string[];
  writeObjects: string[];
  /** `bucket/key` of the writer lease objects (`<prefix>.converge/lease.json` beside each S3 source). */
  leaseObjects: string[];
  /** `bucket/key` of the status documents (`<prefix>.converge/status.json` beside each S3 source). */
  statusObjects: string[];
  /** SNS topics notifications are published to (`spec.notifications.snsTopicArn`); none: no statement. */
  snsTopics: string[];
  /** Secrets Manager secrets that sign webhook notifications (`spec.notifications.webhook.secretArn`); none: no statement. */
  webhookSecrets: string[];
  /** Role ARNs (or patterns) passed to ECS tasks (execution and task roles) and to CodeDeploy. */
  ecsTaskRoles: string[];
  codeDeployRoles: string[];
  /** Preflight: ECR repository ARNs (or patterns) whose images are checked; undefined: every repository in the region. */
  ecrRepositories?: string[];
  /** Preflight: Secrets Manager secrets the workloads name (their metadata is read); undefined: every secret in the region. */
  workloadSecrets?: string[];
}

export type PolicyCondition = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: PolicyCondition;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Id?: string;
  Statement: PolicyStatement[];
}

const ACCOUNT = '*';

interface Target {
  /** Statement id: ASCII letters and digits only (IAM's rule for Sid), unique in the policy. */
  sid: string;
  resources(s: PolicyScope): string[];
  condition?(s: PolicyScope): PolicyCondition | undefined;
}

const arn = (s: PolicyScope, service: string, resource: string): string => `arn:${s.partition}:${service}:${s.region}:${ACCOUNT}:${resource}`;
const globalArn = (s: PolicyScope, service: string, resource: string): string => `arn:${s.partition}:${service}::${ACCOUNT}:${resource}`;
const ANY = (): string[] => ['*'];
const unique = (values: readonly string[]): string[] => [...new Set(values)];

/** The statements, in this order (grouped by service, IAM last). */
const TARGETS: Readonly<Record<TargetId, Target>> = {
  'ecs-any': { sid: 'EcsDescribeTaskDefinitions', resources: ANY },
  'ecs-cluster': { sid: 'EcsCluster', resources: (s) => [arn(s, 'ecs', `cluster/${s.cluster}`)] },
  'ecs-services': { sid: 'EcsServices', resources: (s) => s.services.map((name) => arn(s, 'ecs', `service/${s.cluster}/${name}`)) },
  'ecs-task-definitions': { sid: 'EcsTaskDefinitions', resources: (s) => s.taskFamilies.map((family) => arn(s, 'ecs', `task-definition/${family}:*`)) },

  'elb-any': { sid: 'ElbDescribe', resources: ANY },
  'elb-load-balancers': {
    sid: 'ElbLoadBalancers',
    resources: (s) => [
      ...s.applicationLoadBalancers.map((name) => arn(s, 'elasticloadbalancing', `loadbalancer/app/${name}/*`)),
      ...s.networkLoadBalancers.map((name) => arn(s, 'elasticloadbalancing', `loadbalancer/net/${name}/*`)),
    ],
  },
  'elb-listeners': {
    sid: 'ElbListeners',
    resources: (s) => [
      ...s.applicationLoadBalancers.map((name) => arn(s, 'elasticloadbalancing', `listener/app/${name}/*`)),
      ...s.networkLoadBalancers.map((name) => arn(s, 'elasticloadbalancing', `listener/net/${name}/*`)),
    ],
  },
  'elb-target-groups': { sid: 'ElbTargetGroups', resources: (s) => s.targetGroups.map((name) => arn(s, 'elasticloadbalancing', `targetgroup/${name}/*`)) },

  'ec2-any': { sid: 'Ec2Describe', resources: ANY },
  // SAR: ec2:CreateSecurityGroup takes the VPC and the new group as resources.
  'ec2-create-security-group': { sid: 'Ec2CreateSecurityGroups', resources: (s) => [arn(s, 'ec2', `vpc/${s.vpcId}`), arn(s, 'ec2', 'security-group/*')] },
  'ec2-tag-new-security-group': {
    sid: 'Ec2TagSecurityGroupsOnCreate',
    resources: (s) => [arn(s, 'ec2', 'security-group/*')],
    condition: () => ({ StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' } }),
  },
  // Group ids are random: converge's writes are scoped by its ownership tag, which it checks before every write anyway.
  'ec2-owned-security-groups': {
    sid: 'Ec2OwnedSecurityGroups',
    resources: (s) => [arn(s, 'ec2', 'security-group/*')],
    condition: (s): PolicyCondition => {
      const key = `aws:ResourceTag/${s.ownershipTag.key}`;
      return s.ownershipTag.value === undefined ? { Null: { [key]: 'false' } } : { StringEquals: { [key]: s.ownershipTag.value } };
    },
  },

  'logs-any': { sid: 'LogsDescribeLogGroups', resources: ANY },
  // A log group's ARN is `log-group:<name>` or `log-group:<name>:*`; a pattern ending in `*` covers both.
  'logs-log-groups': {
    sid: 'LogsLogGroups',
    resources: (s) => unique(s.logGroups.flatMap((name) => (name.endsWith('*') ? [name] : [name, `${name}:*`]))).map((name) => arn(s, 'logs', `log-group:${name}`)),
  },

  'acm-any': { sid: 'AcmListAndRequestCertificates', resources: ANY },
  // Certificate ids are random; converge reads the ones it requested and the ones the Environment names.
  'acm-certificates': { sid: 'AcmCertificates', resources: (s) => [arn(s, 'acm', 'certificate/*')] },
  'acm-owned-certificates': {
    sid: 'AcmDeleteOwnedCertificates',
    resources: (s) => [arn(s, 'acm', 'certificate/*')],
    condition: (s): PolicyCondition => {
      const key = `aws:ResourceTag/${s.ownershipTag.key}`;
      return s.ownershipTag.value === undefined ? { Null: { [key]: 'false' } } : { StringEquals: { [key]: s.ownershipTag.value } };
    },
  },

  'route53-any': { sid: 'Route53FindHostedZones', resources: ANY },
  'route53-zone': { sid: 'Route53ReadHostedZone', resources: (s) => [`arn:${s.partition}:route53:::hostedzone/${s.hostedZoneId}`] },
  // Condition keys and their normalization: https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html
  'route53-owned-records': {
    sid: 'Route53ChangeRecords',
    resources: (s) => [`arn:${s.partition}:route53:::hostedzone/${s.hostedZoneId}`],
    condition: (s) => ({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsActions': [...ROUTE53_CHANGE_ACTIONS],
        'route53:ChangeResourceRecordSetsRecordTypes': [...ROUTE53_RECORD_TYPES],
      },
      ...(s.recordNames ? { 'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': s.recordNames } } : {}),
    }),
  },

  'codedeploy-any': { sid: 'CodeDeployListDeployments', resources: ANY },
  'codedeploy-application': { sid: 'CodeDeployApplication', resources: (s) => [arn(s, 'codedeploy', `application:${s.codeDeployApplication}`)] },
  'codedeploy-deployment-groups': {
    sid: 'CodeDeployDeploymentGroups',
    resources: (s) => s.deploymentGroups.map((group) => arn(s, 'codedeploy', `deploymentgroup:${s.codeDeployApplication}/${group}`)),
  },
  'codedeploy-deployment-configs': { sid: 'CodeDeployDeploymentConfigs', resources: (s) => s.deploymentConfigs.map((name) => arn(s, 'codedeploy', `deploymentconfig:${name}`)) },

  's3-buckets': {
    sid: 'S3ListDesiredState',
    resources: (s) => unique(s.listBuckets.map((b) => `arn:${s.partition}:s3:::${b.bucket}`)),
    condition: (s) => {
      if (s.listBuckets.some((b) => b.prefixes.length === 0 || b.prefixes.includes(''))) return undefined;
      return { StringLike: { 's3:prefix': unique(s.listBuckets.flatMap((b) => b.prefixes.map((prefix) => `${prefix}*`))) } };
    },
  },
  's3-read-objects': { sid: 'S3ReadDesiredState', resources: (s) => unique(s.readObjects).map((object) => `arn:${s.partition}:s3:::${object}`) },
  's3-write-objects': { sid: 'S3PublishGatewayConfigs', resources: (s) => unique(s.writeObjects).map((object) => `arn:${s.partition}:s3:::${object}`) },
  's3-lease': { sid: 'S3WriterLease', resources: (s) => unique(s.leaseObjects).map((object) => `arn:${s.partition}:s3:::${object}`) },
  's3-status': { sid: 'S3StatusDocument', resources: (s) => unique(s.statusObjects).map((object) => `arn:${s.partition}:s3:::${object}`) },
  'sns-topics': { sid: 'SnsPublishNotifications', resources: (s) => unique(s.snsTopics) },
  'secretsmanager-webhook-secrets': { sid: 'SecretsManagerWebhookSecret', resources: (s) => unique(s.webhookSecrets) },
  // Preflight reads metadata only (DescribeSecret, DescribeImages): never a secret's value, never an image's layers.
  'secretsmanager-workload-secrets': { sid: 'SecretsManagerDescribeWorkloadSecrets', resources: (s) => unique(s.workloadSecrets ?? [arn(s, 'secretsmanager', 'secret:*')]) },
  'ecr-repositories': { sid: 'EcrDescribeImages', resources: (s) => unique(s.ecrRepositories ?? [arn(s, 'ecr', 'repository/*')]) },
  'ssm-any': { sid: 'SsmDescribeParameters', resources: ANY },

  'tagging-any': { sid: 'TaggingReadEnvironmentTags', resources: ANY },

  'aas-any': { sid: 'AutoScalingDescribe', resources: ANY },
  // Scalable target ARNs end in a random id: converge checks its ownership tag before every write.
  'aas-scalable-targets': { sid: 'AutoScalingScalableTargets', resources: (s) => [arn(s, 'application-autoscaling', 'scalable-target/*')] },
  // Target tracking alarms are named `TargetTracking-service/<cluster>/<service>-AlarmHigh-<uuid>` (and AlarmLow).
  'cloudwatch-target-tracking-alarms': {
    sid: 'CloudWatchTargetTrackingAlarms',
    resources: (s) => [arn(s, 'cloudwatch', `alarm:TargetTracking-service/${s.cluster}/*`)],
  },

  // Preflight: the roles the Environment names exist and trust ecs-tasks.amazonaws.com or codedeploy.amazonaws.com.
  'iam-read-roles': { sid: 'IamReadWorkloadRoles', resources: (s) => unique([...s.ecsTaskRoles, ...s.codeDeployRoles]) },
  'iam-pass-task-roles': {
    sid: 'IamPassRolesToEcsTasks',
    resources: (s) => unique(s.ecsTaskRoles),
    condition: () => ({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } }),
  },
  'iam-pass-codedeploy-role': {
    sid: 'IamPassRoleToCodeDeploy',
    resources: (s) => unique(s.codeDeployRoles),
    condition: () => ({ StringEquals: { 'iam:PassedToService': 'codedeploy.amazonaws.com' } }),
  },
  'iam-service-linked-roles': {
    sid: 'IamCreateServiceLinkedRoles',
    resources: (s) => [
      globalArn(s, 'iam', 'role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS'),
      globalArn(s, 'iam', 'role/aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing'),
      globalArn(s, 'iam', 'role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService'),
    ],
    condition: () => ({ StringEquals: { 'iam:AWSServiceName': ['ecs.amazonaws.com', 'elasticloadbalancing.amazonaws.com', 'ecs.application-autoscaling.amazonaws.com'] } }),
  },
};

/**
 * The policy's statements: every action of `IAM_OPERATIONS`, one statement per target, in the
 * order of `TARGETS`. A target with no resource in this scope (no role to pass) is left out.
 */
export function policyStatements(scope: PolicyScope): PolicyStatement[] {
  const actions = new Map<TargetId, Set<string>>();
  for (const entry of IAM_OPERATIONS) {
    for (const g of entry.grants) {
      const set = actions.get(g.target) ?? new Set<string>();
      set.add(g.action);
      actions.set(g.target, set);
    }
  }
  const statements: PolicyStatement[] = [];
  for (const [id, target] of Object.entries(TARGETS) as [TargetId, Target][]) {
    const granted = actions.get(id);
    const resources = target.resources(scope);
    if (!granted || resources.length === 0) continue;
    const statement: PolicyStatement = {
      Sid: target.sid,
      Effect: 'Allow',
      Action: [...granted].sort(),
      Resource: resources.length === 1 && resources[0] === '*' ? '*' : resources,
    };
    const condition = target.condition?.(scope);
    if (condition) statement.Condition = condition;
    statements.push(statement);
  }
  return statements;
}

/** The partition of a region (`aws`, `aws-cn`, `aws-us-gov`, ...). */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  return 'aws';
}
