import type { Logger } from 'pino';
import type { DesiredResource, Outputs, ResourceType } from '../../desired-state/graph.js';
import type { AwsClients } from '../aws/clients.js';
import type { S3Listing } from '../aws/s3.js';


export interface FieldDiff {
  field: string;
  desired: unknown;
  live: unknown;
}

export type ChangeAction = 'create' | 'update' | 'delete' | 'deploy' | 'replace';

export interface Change<P = unknown> {
  readonly action: ChangeAction;
  /** What a person reviewing the plan needs: field, old and new value. */
  readonly diffs: readonly FieldDiff[];
  /** Reconciler-specific input for `apply`. */
  readonly payload: P;
  readonly summary?: string;
}

export type ResourceState = 'InSync' | 'Drifted' | 'Progressing' | 'Failed' | 'Pending' | 'Conflict';

/** What `plan` decides for one resource. */
export interface ResourcePlan {
  changes: Change[];
  /** Differences made outside converge (as opposed to a new desired revision). */
  drift: FieldDiff[];
  /** A same-named resource that converge does not own: reported, never touched. */
  conflict?: string;
  /** Waiting on AWS (a certificate being issued, a deployment running). */
  progressing?: string;
  /** A terminal condition that needs a person (a failed deployment, a forbidden replacement). */
  failed?: string;
  /** Outputs known without applying anything (from live state). */
  outputs?: Outputs;
}

export interface Observation<L> {
  live: L;
  /** Carries converge's ownership tags for this environment. */
  owned: boolean;
  /** `converge:spec-hash` of the live resource, when the type carries one. */
  specHash?: string;
}

export interface PlanContext {
  /** Hash of the desired spec (before refs are resolved): what `converge:spec-hash` records. */
  desiredHash: string;
  selfHeal: boolean;
  mode: 'plan' | 'apply';
}

/** A process-lifetime cache for what AWS never changes (task definition revisions, ...). */
export interface ImmutableCache {
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T): void;
}

export interface ReconcileContext {
  aws: AwsClients;
  log: Logger;
  mode: 'plan' | 'apply';
  environment: string;
  cache: ImmutableCache;
  /** Shares one batched read between reconcilers within a cycle. */
  memo: <T>(key: string, load: () => Promise<T>) => Promise<T>;
  /** The whole desired graph of this cycle. */
  graph: readonly DesiredResource[];
  /** Complete S3 listings already made in this cycle (the desired-state source's). */
  s3Listings?: readonly S3Listing[];
  /** Outputs of resources already reconciled in this cycle. */
  outputsOf: (resourceId: string) => Outputs | undefined;
}

export interface ApplyContext extends ReconcileContext {
  /** What to record in `converge:spec-hash`. */
  desiredHash: string;
  /** Outputs known from live state before this change (ARNs of the existing resource). */
  liveOutputs: Outputs;
}

/** The one small interface every resource type implements. */
export interface ResourceReconciler<S = unknown, L = unknown, P = unknown> {
  readonly type: ResourceType;
  /** Batched read of the live state of all desired resources of this type, keyed by resource id. */
  observe(desired: readonly DesiredResource<S>[], ctx: ReconcileContext): Promise<Map<string, Observation<L>>>;
  /** Pure: the changes and drift for one resource whose refs are resolved. */
  plan(desired: DesiredResource<S>, observed: Observation<L> | undefined, ctx: PlanContext): ResourcePlan;
  /** Makes one change; returns the outputs of the resource afterwards. */
  apply(desired: DesiredResource<S>, change: Change<P>, ctx: ApplyContext): Promise<Outputs>;
}

/** A reconciler with its type parameters erased, as the registry holds them. */
export type AnyReconciler = ResourceReconciler<unknown, unknown, unknown>;

/**
 * Erases a reconciler's type parameters for the registry. Sound because the engine only
 * ever hands a reconciler the resources of its own `type`, which expansion built with its spec.
 */
export function erase<S, L, P>(reconciler: ResourceReconciler<S, L, P>): AnyReconciler {
  return reconciler;
}

