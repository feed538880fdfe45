/**
 * Pure parsing of what a workload refers to: container images, secret ARNs (Secrets Manager
 * secrets and SSM parameters), IAM role ARNs and ACM certificate ARNs. No AWS call.
 */

/** An image in a private ECR registry: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag][@digest]`. */
export interface EcrImage {
  kind: 'ecr';
  /** As the desired state writes it. */
  reference: string;
  account: string;
  region: string;
  repository: string;
  /** ECS pulls by digest when a reference carries both: the tag is then not checked. */
  tag?: string;
  digest?: string;
}

/** An image anywhere else (Docker Hub, ECR Public, another registry): not verified. */
export interface OtherImage {
  kind: 'other';
  reference: string;
  /** The registry host (`docker.io` when the reference names none). */
  registry: string;
}

export type ImageReference = EcrImage | OtherImage;

// Private ECR hosts, FIPS and China included (ECR user guide, "Private registry": `aws_account_id.dkr.ecr.region.amazonaws.com`).
const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** Parses an image reference the way Docker does: a first path part with a dot, a colon or `localhost` is a registry host. */
export function parseImage(reference: string): ImageReference {
  const slash = reference.indexOf('/');
  const first = slash === -1 ? '' : reference.slice(0, slash);
  const hasHost = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  const host = hasHost ? first : 'docker.io';
  const rest = hasHost ? reference.slice(slash + 1) : reference;
  const ecr = ECR_HOST.exec(host.toLowerCase());
  if (!ecr) return { kind: 'other', reference, registry: host };
  const at = rest.indexOf('@');
  const digest = at === -1 ? undefined : rest.slice(at + 1);
  const named = at === -1 ? rest : rest.slice(0, at);
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const repository = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : undefined;
  const image: EcrImage = { kind: 'ecr', reference, account: ecr[1] ?? '', region: ecr[2] ?? '', repository };
  if (digest !== undefined && digest !== '') image.digest = digest;
  // No tag and no digest: Docker pulls `latest`.
  else image.tag = tag !== undefined && tag !== '' ? tag : 'latest';
  return image;
}

/** What ECS resolves a secret's `valueFrom` to. */
export type SecretReference =
  | {
      kind: 'secretsmanager';
      /** The ARN as written (may carry `:json-key:version-stage:version-id`). */
      valueFrom: string;
      /** The secret's ARN alone (complete, or partial without the six random characters). */
      secretId: string;
      region: string;
      account: string;
    }
  | {
      kind: 'ssm';
      valueFrom: string;
      region: string;
      account: string;
      /** The parameter's name as the ARN gives it (`/shop/billing/key`, or `db` for a name without a slash). */
      name: string;
      /**
       * The names it may have: an ARN `parameter/db` is the parameter `db` or `/db` (SSM user guide,
       * "Parameter hierarchies": a hierarchy starts with a slash, which the ARN does not repeat).
       */
      candidates: string[];
    };

const SECRETS_MANAGER_ARN = /^arn:(aws[a-z-]*):secretsmanager:([a-z0-9-]+):(\d{12}):secret:(.+)$/;
const SSM_ARN = /^arn:(aws[a-z-]*):ssm:([a-z0-9-]+):(\d{12}):parameter(\/.+)$/;

/** A secret's ARN; undefined for anything else (the loader admits nothing else). */
export function parseSecret(valueFrom: string): SecretReference | undefined {
  const sm = SECRETS_MANAGER_ARN.exec(valueFrom);
  if (sm) {
    // arn:aws:secretsmanager:region:account:secret:name[:json-key:version-stage:version-id] (ECS developer guide, "Pass Secrets Manager secrets")
    const secretId = valueFrom.split(':').slice(0, 7).join(':');
    return { kind: 'secretsmanager', valueFrom, secretId, region: sm[2] ?? '', account: sm[3] ?? '' };
  }
  const ssm = SSM_ARN.exec(valueFrom);
  if (ssm) {
    // Parameter names have no colon: what follows one is a version or label selector.
    const path = (ssm[4] ?? '').split(':')[0] ?? '';
    const bare = path.slice(1);
    const hierarchical = bare.includes('/');
    const name = hierarchical ? path : bare;
    return { kind: 'ssm', valueFrom, region: ssm[2] ?? '', account: ssm[3] ?? '', name, candidates: hierarchical ? [path] : [bare, path] };
  }
  return undefined;
}

export interface RoleReference {
  arn: string;
  account: string;
  /** What GetRole takes: the last part of the ARN, without the path. */
  name: string;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[^/]+\/)*([^/]+)$/;

export function parseRole(arn: string): RoleReference | undefined {
  const m = ROLE_ARN.exec(arn);
  return m ? { arn, account: m[1] ?? '', name: m[2] ?? '' } : undefined;
}

/** The region of an ACM certificate ARN (`arn:aws:acm:<region>:<account>:certificate/<id>`). */
export function certificateRegion(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate\/.+$/.exec(arn)?.[1];
}

/** The account of any ARN, when it names one. */
export function accountOfArn(arn: string): string | undefined {
  const account = arn.split(':')[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}
