import type { Logger } from 'pino';
import type { DesiredResource, Outputs, ResourceType } from '../../desired-state/graph.js';
import type { AwsClients } from '../aws/clients.js';
import type { S3Listing } from '../aws/s3.js';
import type { TagMap } from '../aws/tags.js';

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
  /** AWS finishes this change after the call returns (a deployment, a replacement): the resource is Progressing. */
  readonly completesLater?: string;
  /** converge's own upkeep of objects only it writes (pruning old published configurations): never drift. */
  readonly housekeeping?: boolean;
}

export type ResourceState = 'InSync' | 'Drifted' | 'Progressing' | 'Failed' | 'Pending' | 'Conflict';

/** What `apply --wait`, `/status` and `plan` show of a running blue/green deployment. */
export interface DeploymentProgress {
  kind: 'deployment';
  deploymentId: string;
  status: string;
  trafficShiftedPercent?: number;
  elapsedSeconds?: number;
  /** `family:revision` of the task definition it deploys. */
  taskDefinition?: string;
  /** What happens next, or why it failed. */
  note?: string;
}

/** Structured progress of a resource that waits on AWS. */
export type Progress = DeploymentProgress;

interface PlanBase {
  /** What to change, in order. For an existing resource the engine decides whether they are drift. */
  changes: Change[];
  /** Differences no change of this plan corrects (the engine reports them as drift unless intended). */
  differences?: FieldDiff[];
  /** Outputs known without applying anything (from live state). */
  outputs?: Outputs;
}

/**
 * What a reconciler's `plan` decides for one resource, by state. Ownership, conflicts, drift versus
 * intended change and the spec hash are the engine's: a reconciler only says what differs.
 */
export type ResourcePlan =
  | (PlanBase & { state: 'ready' })
  /** Waiting on AWS (a certificate being issued, a deployment running). */
  | (PlanBase & { state: 'progressing'; message: string; progress?: Progress })
  /** A condition that needs a person (a failed deployment, a forbidden replacement). */
  | (PlanBase & { state: 'failed'; message: string; progress?: Progress })
  /** Only types that record ownership outside tags (see `ResourceReconciler.ownership`). */
  | { state: 'conflict'; message: string; changes: []; outputs?: undefined; differences?: undefined };

export const ready = (changes: Change[] = [], outputs?: Outputs, differences?: FieldDiff[]): ResourcePlan => ({ state: 'ready', changes, outputs, differences });
export const progressing = (message: string, extra: Partial<PlanBase> & { progress?: Progress } = {}): ResourcePlan => ({ state: 'progressing', message, changes: [], ...extra });
export const failed = (message: string, extra: Partial<PlanBase> & { progress?: Progress } = {}): ResourcePlan => ({ state: 'failed', message, changes: [], ...extra });

/** What observe saw of one live resource. */
export interface Observation<L> {
  live: L;
  /**
   * The resource's tags as read. The engine decides ownership (`converge:environment`) and reads
   * the recorded spec hash from them. Absent only for types whose `ownership` is not 'tags'.
   */
  tags?: TagMap;
  /** The tags came from a process cache: the engine confirms them with `readTags` before any write. */
  tagsFromCache?: boolean;
}

export interface PlanContext {
  /** Hash of the desired spec (values AWS decides left out): what `converge:spec-hash` records. */
  desiredHash: string;
  /** The live resource records another spec hash: the desired state changed since converge wrote it. */
  intended: boolean;
  selfHeal: boolean;
  mode: 'plan' | 'apply';
  /**
   * Fields the workload's `reconcile.ignore` leaves alone (names as drift events give them, or
   * dotted prefixes). The engine drops their diffs from the plan; a reconciler whose change
   * payload names fields builds it from the diffs left, so that an ignored value is never written.
   */
  ignore?: readonly string[];
}

/** A process-lifetime cache for what AWS never changes (task definition revisions, ...). */
export interface ImmutableCache {
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T): void;
  delete(key: string): void;
}

/** A read shared by reconcilers within one cycle: made at most once per cycle, keyed by identity. */
export interface CycleRead<T> {
  readonly name: string;
  load(ctx: ReconcileContext): Promise<T>;
}

export function cycleRead<T>(name: string, load: (ctx: ReconcileContext) => Promise<T>): CycleRead<T> {
  return { name, load };
}

export interface ReconcileContext {
  aws: AwsClients;
  log: Logger;
  mode: 'plan' | 'apply';
  environment: string;
  cache: ImmutableCache;
  /** The result of a shared read of this cycle, read once. */
  read<T>(read: CycleRead<T>): Promise<T>;
  /** The whole desired graph of this cycle (for typed shared reads; never to read another type's spec ad hoc). */
  graph: readonly DesiredResource[];
  /** Complete S3 listings already made in this cycle (the desired-state source's). */
  s3Listings?: readonly S3Listing[];
  /** Outputs of resources already reconciled in this cycle. */
  outputsOf: (resourceId: string) => Outputs | undefined;
  /** The spec hash the engine gives a resource now (undefined while one of its refs has no value). */
  desiredHashOf: (resource: DesiredResource) => string | undefined;
}

export interface ApplyContext extends ReconcileContext {
  /** What to record in `converge:spec-hash`. */
  desiredHash: string;
  /** The desired tags with the spec hash: what a create writes. */
  tags: TagMap;
  /** Outputs known from live state before this change (ARNs of the existing resource). */
  liveOutputs: Outputs;
}

/**
 * How a type records ownership. 'tags': observe returns the live tags and the engine decides.
 * 'reconciler': ownership lives elsewhere (Route 53 owner records, objects under converge's own
 * prefix, certificates found by their tags); the reconciler's plan reports a conflict itself.
 */
export type Ownership = 'tags' | 'reconciler';

/** The one small interface every resource type implements. */
/** `I`: what the inventory holds of a live resource (what observe returns, unless the type finds its leftovers otherwise). */
export interface ResourceReconciler<S = unknown, L = unknown, P = unknown, I = L> {
  readonly type: ResourceType;
  readonly ownership: Ownership;
  /** Batched read of the live state of all desired resources of this type, keyed by resource id. */
  observe(desired: readonly DesiredResource<S>[], ctx: ReconcileContext): Promise<Map<string, Observation<L>>>;
  /** Pure: what differs for one resource whose refs are resolved (owned or absent). */
  plan(desired: DesiredResource<S>, observed: Observation<L> | undefined, ctx: PlanContext): ResourcePlan;
  /** Makes one change; returns the outputs of the resource afterwards. */
  apply(desired: DesiredResource<S>, change: Change<P>, ctx: ApplyContext): Promise<Outputs>;
  /**
   * Reads the resource's tags afresh, bypassing any cache (and refreshing it): the engine's check
   * of ownership just before it writes to a resource whose observed tags came from a cache.
   */
  readTags?(desired: DesiredResource<S>, observed: Observation<L>, ctx: ReconcileContext): Promise<TagMap>;
  /** Records `converge:spec-hash` on an existing resource after the engine applied its changes. */
  recordSpecHash?(desired: DesiredResource<S>, outputs: Outputs, hash: string, ctx: ApplyContext): Promise<void>;
  /**
   * Prune and destroy: every live resource of this type that carries this environment's ownership
   * tag (`converge:environment`), keyed by its graph id (`resourceId(type, name)`, the id the
   * expansion would give it). One batched read per type per cycle; a type without an inventory is
   * never pruned. Only resources whose tags say this environment may be returned.
   */
  inventory?(ctx: ReconcileContext, scope?: InventoryScope): Promise<Map<string, OwnedResource<I>>>;
  /** Deletes one owned resource that left the desired state (idempotent: one already gone is not an error). */
  delete?(owned: OwnedResource<I>, ctx: ApplyContext): Promise<void>;
}

/**
 * `undesired` (prune): only resources that are not in the desired graph matter, so an inventory
 * may skip reading what the graph has (the cycle observed it already); `all` (destroy).
 */
export type InventoryScope = 'undesired' | 'all';

/** A live resource converge owns for this environment, found by `inventory`. */
export interface OwnedResource<L = unknown> {
  /** The graph id it would have in the desired state. */
  id: string;
  type: ResourceType;
  /** Its AWS name. */
  name: string;
  /** The document that declared it (`converge:resource`: `Service/users`), when tagged. */
  owner?: { kind: string; name: string };
  live: L;
  tags: TagMap;
}

/** A reconciler with its type parameters erased, as the registry holds them. */
export type AnyReconciler = ResourceReconciler<unknown, unknown, unknown, unknown>;

/**
 * Erases a reconciler's type parameters for the registry. Sound because the engine only
 * ever hands a reconciler the resources of its own `type`, which expansion built with its spec.
 */
export function erase<S, L, P, I>(reconciler: ResourceReconciler<S, L, P, I>): AnyReconciler {
  return reconciler;
}

/** One resource's outcome in a cycle, as logs, `/status` and the plan show it. */
export interface ResourceResult {
  id: string;
  type: ResourceType;
  /** `AWS::ECS::Service shop-users`. */
  resource: string;
  kind: string;
  name: string;
  state: ResourceState;
  drift: FieldDiff[];
  changes: { action: ChangeAction; summary?: string; diffs: FieldDiff[]; applied: boolean }[];
  message?: string;
  /** Structured progress while the resource waits on AWS (a deployment). */
  progress?: Progress;
  /** Not reconciled this cycle: its inputs (a dependency) were not ready. */
  waiting?: boolean;
  /** What it waits on in the end: the failed or conflicting resources below its dependencies, with their errors. */
  blockedBy?: BlockingCause[];
}

/** A failed or conflicting resource that others wait on. */
export interface BlockingCause {
  /** `AWS::EC2::SecurityGroup shop-services-nlb`. */
  resource: string;
  message: string;
}
