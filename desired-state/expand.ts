import { OWNERSHIP_TAG_ENVIRONMENT, OWNERSHIP_TAG_RESOURCE, ref, type DesiredResource, type Owner, type ResourceType } from './graph.js';
import { InvalidDesiredStateError } from './errors.js';
import { environmentNames, NameError, workloadNames, type EnvironmentNames } from './naming.js';
import type { ResolvedNetwork } from './network.js';
import type {
  CertificateSpec,
  ClusterSpec,
  CodeDeployAppSpec,
  DeploymentGroupSpec,
  DnsRecordSpec,
  EcsServiceSpec,
  GatewayConfigInput,
  GatewayConfigSpec,
  ListenerSpec,
  LoadBalancerSpec,
  LogGroupSpec,
  SecurityGroupRule,
  SecurityGroupSpec,
  TargetGroupSpec,
  TaskDefinitionSpec,
} from './resources.js';
import { allWorkloads, type DesiredState, type Workload } from './types.js';

/** A TLS 1.3 policy ELB offers for HTTPS listeners. */
export const HTTPS_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
/** Where the gateway's init container puts the configuration for KrakenD. */
export const GATEWAY_CONFIG_DIR = '/etc/krakend';
export const GATEWAY_CONFIG_LOADER_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.17.0';

/** Published gateway configurations kept for rollback, the current one included. */
export const GATEWAY_CONFIGS_KEPT = 5;

/**
 * What the KrakenD configuration is generated from. The gateway-config reconciler only sees its
 * own spec, so expansion copies this part of the desired state into it.
 */
export function gatewayConfigInput(state: DesiredState): GatewayConfigInput {
  const gateway = state.gateway;
  const services = state.services
    .filter((service) => service.routes.length > 0)
    .map((service) => {
      const routes = service.routes.map((route) => ({ ...route, methods: [...route.methods] }));
      return service.listenerPort === undefined ? { name: service.name, routes } : { name: service.name, listenerPort: service.listenerPort, routes };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    environment: state.environment.name,
    gateway: { port: gateway.container.port, healthPath: gateway.healthCheck.path, settings: structuredClone(gateway.settings) },
    services,
  };
}

export interface ExpandOptions {
  /** Where published gateway configurations go: the source bucket, under a prefix converge owns. */
  gatewayConfig: { bucket: string; prefix: string };
}

export const resourceId = (type: ResourceType, key: string): string => `${type}/${key}`;

/**
 * Expands the documents into every AWS resource the architecture implies. Pure: the only
 * place that knows which resources a kind needs and how they are named.
 */
export function expand(state: DesiredState, network: ResolvedNetwork, options: ExpandOptions): DesiredResource[] {
  try {
    return new Expansion(state, network, options).run();
  } catch (error) {
    if (error instanceof NameError) {
      const env = state.environment;
      throw new InvalidDesiredStateError([{ file: env.origin.file, document: `Environment/${env.name}`, path: 'metadata.name', message: error.message }]);
    }
    throw error;
  }
}

class Expansion {
  private readonly out: DesiredResource[] = [];
  private readonly env: string;
  private readonly names: EnvironmentNames;

  constructor(
    private readonly state: DesiredState,
    private readonly network: ResolvedNetwork,
    private readonly options: ExpandOptions,
  ) {
    this.env = state.environment.name;
    this.names = environmentNames(this.env, state.environment.spec.cluster.name);
  }

  run(): DesiredResource[] {
    const envOwner: Owner = { kind: 'Environment', name: this.env };
    const spec = this.state.environment.spec;
    this.add<ClusterSpec>('ecs-cluster', this.names.cluster, envOwner, {
      clusterName: this.names.cluster,
      containerInsights: spec.cluster.containerInsights,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    });
    this.addIngress(envOwner);
    this.add<CodeDeployAppSpec>('codedeploy-app', this.names.codeDeployApp, envOwner, { applicationName: this.names.codeDeployApp });
    const nlbId = resourceId('load-balancer', this.names.internalNlb);
    this.add<GatewayConfigSpec>(
      'gateway-config',
      this.env,
      { kind: 'Gateway', name: this.state.gateway.name },
      {
        bucket: this.options.gatewayConfig.bucket,
        // Environments may share one artifacts location; retention must only ever see its own.
        prefix: `${this.options.gatewayConfig.prefix}${this.env}/`,
        keep: GATEWAY_CONFIGS_KEPT,
        nlbDnsName: ref(nlbId, 'dnsName'),
        input: gatewayConfigInput(this.state),
      },
      [nlbId],
      this.state.gateway.labels,
    );
    for (const workload of allWorkloads(this.state)) this.addWorkload(workload);
    return this.out;
  }

  private add<S>(type: ResourceType, key: string, owner: Owner, spec: S, dependsOn: string[] = [], labels: Record<string, string> = {}): string {
    const id = resourceId(type, key);
    if (this.out.some((r) => r.id === id)) throw new Error(`expansion produced ${id} twice`);
    const tags = {
      ...this.state.environment.labels,
      ...labels,
      [OWNERSHIP_TAG_ENVIRONMENT]: this.env,
      [OWNERSHIP_TAG_RESOURCE]: `${owner.kind}/${owner.name}`,
    };
    this.out.push({ id, type, name: key, owner, tags, spec, dependsOn });
    return id;
  }

  private addIngress(envOwner: Owner): void {
    const spec = this.state.environment.spec;
    const publicSubnets = this.network.publicSubnets.map((s) => s.id);
    const privateSubnets = this.network.privateSubnets.map((s) => s.id);

    for (const role of ['backend', 'frontend'] as const) {
      const lbSpec = spec.loadBalancers[role];
      const sgName = this.names.albSecurityGroup(role);
      const ingress: SecurityGroupRule[] = lbSpec.ingressCidrs.flatMap((cidr) => [
        { fromPort: 80, toPort: 80, cidr, description: 'HTTP, redirected to HTTPS' },
        { fromPort: 443, toPort: 443, cidr, description: 'HTTPS' },
      ]);
      const sgId = this.add<SecurityGroupSpec>('security-group', sgName, envOwner, {
        groupName: sgName,
        description: `converge ${this.env}: ${role} ALB`,
        vpcId: this.network.vpcId,
        ingress,
      });
      const lbName = role === 'backend' ? this.names.backendAlb : this.names.frontendAlb;
      const lbId = this.add<LoadBalancerSpec>(
        'load-balancer',
        lbName,
        envOwner,
        { name: lbName, role, type: 'application', scheme: 'internet-facing', subnets: publicSubnets, securityGroups: [ref(sgId, 'groupId')] },
        [sgId],
      );
      const certKey = lbSpec.domain;
      const certId = this.add<CertificateSpec>(
        'certificate',
        certKey,
        envOwner,
        lbSpec.certificateArn === 'auto'
          ? { domain: lbSpec.domain, mode: 'auto', zoneId: this.network.zoneId, zoneName: this.network.zoneName }
          : { domain: lbSpec.domain, mode: 'given', arn: lbSpec.certificateArn, zoneId: this.network.zoneId, zoneName: this.network.zoneName },
      );
      if (lbSpec.certificateArn === 'auto') {
        this.add<DnsRecordSpec>('dns-record', `validation:${lbSpec.domain}`, envOwner, { zoneId: this.network.zoneId, recordType: 'CNAME', certificate: ref(certId, 'validationRecords') }, [certId]);
      }
      this.add<DnsRecordSpec>(
        'dns-record',
        `${lbSpec.domain}:A`,
        envOwner,
        { zoneId: this.network.zoneId, recordName: lbSpec.domain, recordType: 'A', alias: { dnsName: ref(lbId, 'dnsName'), hostedZoneId: ref(lbId, 'canonicalHostedZoneId') } },
        [lbId],
      );
      this.add<ListenerSpec>('listener', `${lbName}:80`, envOwner, { loadBalancerArn: ref(lbId, 'arn'), port: 80, protocol: 'HTTP', defaultAction: { type: 'redirect-https' } }, [lbId]);
    }

    const nlbSgName = this.names.nlbSecurityGroup;
    const gatewaySgId = resourceId('security-group', workloadNames(this.env, this.state.gateway.name).securityGroup);
    const nlbSgId = this.add<SecurityGroupSpec>(
      'security-group',
      nlbSgName,
      envOwner,
      {
        groupName: nlbSgName,
        description: `converge ${this.env}: internal NLB in front of the backend services`,
        vpcId: this.network.vpcId,
        ingress: this.state.services.map((s) => ({
          fromPort: s.listenerPort ?? 0,
          toPort: s.listenerPort ?? 0,
          sourceGroupId: ref(gatewaySgId, 'groupId'),
          description: `${s.name} from the gateway`,
        })),
      },
      [gatewaySgId],
    );
    this.add<LoadBalancerSpec>(
      'load-balancer',
      this.names.internalNlb,
      envOwner,
      { name: this.names.internalNlb, role: 'services', type: 'network', scheme: 'internal', subnets: privateSubnets, securityGroups: [ref(nlbSgId, 'groupId')] },
      [nlbSgId],
    );
  }

  private addWorkload(w: Workload): void {
    const owner: Owner = { kind: w.kind, name: w.name };
    const names = workloadNames(this.env, w.name);
    const envSpec = this.state.environment.spec;
    const blueGreen = w.deployment.strategy === 'blue-green';

    const logGroupId = this.add<LogGroupSpec>('log-group', names.logGroup, owner, { logGroupName: names.logGroup, retentionInDays: w.logRetentionDays }, [], w.labels);

    const sgId = this.add<SecurityGroupSpec>(
      'security-group',
      names.securityGroup,
      owner,
      { groupName: names.securityGroup, description: `converge ${this.env}: ${w.kind} ${w.name} tasks`, vpcId: this.network.vpcId, ingress: this.taskIngress(w) },
      this.taskIngressDependencies(w),
      w.labels,
    );

    const lbType = w.kind === 'Service' ? 'network' : 'application';
    const tgIds = names.targetGroups.map((tgName) =>
      this.add<TargetGroupSpec>(
        'target-group',
        tgName,
        owner,
        {
          name: tgName,
          protocol: lbType === 'network' ? 'TCP' : 'HTTP',
          port: w.container.port,
          vpcId: this.network.vpcId,
          targetType: 'ip',
          loadBalancerType: lbType,
          healthCheck: {
            protocol: 'HTTP',
            path: w.healthCheck.path,
            intervalSeconds: w.healthCheck.intervalSeconds,
            timeoutSeconds: w.healthCheck.timeoutSeconds,
            healthyThreshold: w.healthCheck.healthyThreshold,
            unhealthyThreshold: w.healthCheck.unhealthyThreshold,
            matcher: w.healthCheck.matcher,
          },
        },
        [],
        w.labels,
      ),
    ) as [string, string];

    const listenerId = this.addProductionListener(w, tgIds, blueGreen);

    const gatewayConfigId = resourceId('gateway-config', this.env);
    const tdSpec: TaskDefinitionSpec = {
      family: names.family,
      cpu: w.container.cpu,
      memory: w.container.memory,
      executionRoleArn: envSpec.iam?.executionRoleArn,
      taskRoleArn: w.taskRoleArn ?? envSpec.iam?.taskRoleArn,
      container: {
        name: names.container,
        image: w.container.image,
        port: w.container.port,
        environment: w.container.env,
        secrets: w.container.secrets,
        command: w.container.command,
        healthCheck: w.container.healthCheck,
      },
      logGroupName: names.logGroup,
      region: envSpec.region,
    };
    if (w.kind === 'Gateway') {
      tdSpec.sidecar = {
        name: 'config-loader',
        image: GATEWAY_CONFIG_LOADER_IMAGE,
        command: ['s3', 'cp', '--only-show-errors'],
        configUri: ref(gatewayConfigId, 'uri'),
        volumeName: 'krakend-config',
        mountPath: GATEWAY_CONFIG_DIR,
        containerMountPath: GATEWAY_CONFIG_DIR,
      };
    }
    const tdId = this.add<TaskDefinitionSpec>('task-definition', names.family, owner, tdSpec, w.kind === 'Gateway' ? [logGroupId, gatewayConfigId] : [logGroupId], w.labels);

    const serviceId = this.add<EcsServiceSpec>(
      'ecs-service',
      names.service,
      owner,
      {
        serviceName: names.service,
        clusterName: this.names.cluster,
        taskDefinitionArn: ref(tdId, 'arn'),
        taskHash: ref(tdId, 'specHash'),
        containerImage: w.container.image,
        desiredCount: w.desiredCount,
        subnets: this.network.privateSubnets.map((s) => s.id),
        securityGroups: [ref(sgId, 'groupId')],
        strategy: w.deployment.strategy,
        allowReplacement: w.deployment.allowReplacement,
        loadBalancer: {
          targetGroupArn: ref(listenerId, 'activeTargetGroupArn'),
          pairTargetGroupArns: blueGreen ? [ref(tgIds[0], 'arn'), ref(tgIds[1], 'arn')] : undefined,
          containerName: names.container,
          containerPort: w.container.port,
        },
        healthCheckGracePeriodSeconds: 60,
      },
      [resourceId('ecs-cluster', this.names.cluster), tdId, sgId, tgIds[0], tgIds[1], listenerId],
      w.labels,
    );

    if (blueGreen) {
      this.add<DeploymentGroupSpec>(
        'deployment-group',
        names.deploymentGroup,
        owner,
        {
          applicationName: this.names.codeDeployApp,
          deploymentGroupName: names.deploymentGroup,
          serviceName: names.service,
          clusterName: this.names.cluster,
          targetGroupNames: names.targetGroups,
          prodListenerArn: ref(listenerId, 'arn'),
          deploymentConfigName: w.deployment.config,
          terminateBlueAfterMinutes: w.deployment.terminateBlueAfterMinutes,
          autoRollback: w.deployment.autoRollback,
          alarms: w.deployment.alarms,
          serviceRoleArn: envSpec.iam?.codeDeployRoleArn,
        },
        [resourceId('codedeploy-app', this.names.codeDeployApp), serviceId, listenerId],
        w.labels,
      );
    }
  }

  /** The listener that carries production traffic to a workload. */
  private addProductionListener(w: Workload, tgIds: [string, string], blueGreen: boolean): string {
    const envOwner: Owner = { kind: 'Environment', name: this.env };
    const targetGroupArns = [ref(tgIds[0], 'arn'), ref(tgIds[1], 'arn')];
    // A rolling service stays on the group it is attached to; the listener follows it, so that a
    // switch from blue/green (which may have left it on the second group) never moves traffic.
    const followService = blueGreen ? undefined : { clusterName: this.names.cluster, serviceName: workloadNames(this.env, w.name).service };
    if (w.kind === 'Service') {
      const nlbId = resourceId('load-balancer', this.names.internalNlb);
      return this.add<ListenerSpec>(
        'listener',
        `${this.names.internalNlb}:${w.listenerPort ?? 0}`,
        { kind: 'Service', name: w.name },
        { loadBalancerArn: ref(nlbId, 'arn'), port: w.listenerPort ?? 0, protocol: 'TCP', defaultAction: { type: 'forward', targetGroupArns, blueGreen, followService } },
        [nlbId, ...tgIds],
        w.labels,
      );
    }
    const role = w.kind === 'Gateway' ? 'backend' : 'frontend';
    const lbName = role === 'backend' ? this.names.backendAlb : this.names.frontendAlb;
    const lbId = resourceId('load-balancer', lbName);
    const certId = resourceId('certificate', this.state.environment.spec.loadBalancers[role].domain);
    return this.add<ListenerSpec>(
      'listener',
      `${lbName}:443`,
      envOwner,
      {
        loadBalancerArn: ref(lbId, 'arn'),
        port: 443,
        protocol: 'HTTPS',
        certificateArn: ref(certId, 'arn'),
        sslPolicy: HTTPS_SSL_POLICY,
        defaultAction: { type: 'forward', targetGroupArns, blueGreen, followService },
      },
      [lbId, certId, ...tgIds],
    );
  }

  /** Who may reach a workload's tasks on its container port. */
  private taskIngress(w: Workload): SecurityGroupRule[] {
    const port = w.container.port;
    const sgRef = (name: string): ReturnType<typeof ref> => ref(resourceId('security-group', name), 'groupId');
    if (w.kind === 'Gateway') return [{ fromPort: port, toPort: port, sourceGroupId: sgRef(this.names.albSecurityGroup('backend')), description: 'from the backend ALB' }];
    if (w.kind === 'Frontend') return [{ fromPort: port, toPort: port, sourceGroupId: sgRef(this.names.albSecurityGroup('frontend')), description: 'from the frontend ALB' }];
    const gatewaySg = workloadNames(this.env, this.state.gateway.name).securityGroup;
    return [
      { fromPort: port, toPort: port, sourceGroupId: sgRef(this.names.nlbSecurityGroup), description: 'from the internal NLB' },
      { fromPort: port, toPort: port, sourceGroupId: sgRef(gatewaySg), description: 'from the gateway' },
      // NLB health checks and forwarded traffic arrive from the NLB's private addresses.
      { fromPort: port, toPort: port, cidr: this.network.vpcCidr, description: 'NLB health checks from the VPC' },
    ];
  }

  private taskIngressDependencies(w: Workload): string[] {
    const sg = (name: string): string => resourceId('security-group', name);
    if (w.kind === 'Gateway') return [sg(this.names.albSecurityGroup('backend'))];
    if (w.kind === 'Frontend') return [sg(this.names.albSecurityGroup('frontend'))];
    return [sg(this.names.nlbSecurityGroup), sg(workloadNames(this.env, this.state.gateway.name).securityGroup)];
  }
}
