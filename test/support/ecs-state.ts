/**
 * In-memory model of the slice of Amazon ECS the stand-in serves: task definitions (with tags), clusters
 * and tasks. Used by the HTTP stand-in (`ecs-standin.ts`) and directly by tests to seed or inspect state
 * without going through HTTP. Every method is synchronous, so a request's state change is atomic.
 *
 * Methods throw `EcsError` with the error type ECS would answer; the HTTP layer turns it into a JSON error.
 * Values handed out are deep copies: mutating them never changes the stand-in.
 *
 * Written with erasable TypeScript only, so Node runs it directly (benchmarks import it without a build).
 */
import type {
  Attribute,
  Cluster,
  Container,
  ContainerDefinition,
  CreateServiceCommandInput,
  Deployment,
  Failure,
  RegisterTaskDefinitionCommandInput,
  Service,
  Tag,
  Task,
  TaskDefinition,
  UpdateServiceCommandInput,
} from "@aws-sdk/client-ecs";

/** An error ECS would answer with: `type` becomes `__type`, `status` the HTTP status. */
export class EcsError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
  }
}

export const clientError = (message: string): EcsError => new EcsError("ClientException", message);
export const invalidParameter = (message: string): EcsError =>
  new EcsError("InvalidParameterException", message);

export interface EcsStateOptions {
  region?: string;
  accountId?: string;
  /** `registeredBy` of registered task definitions. */
  principalArn?: string;
  /** Clock in epoch milliseconds (timestamps of task definitions and tasks). */
  now?: () => number;
  /** Containers allowed per task definition (the ECS quota is 10). */
  maxContainers?: number;
  /** User tags allowed per resource (ECS allows 50). */
  maxTags?: number;
}

/** What `addTask` accepts: any Task field, plus conveniences. */
export type TaskSeed = Omit<Task, "containers" | "tags"> & {
  /** Task ID (last ARN segment); generated when absent. */
  id?: string;
  /** Task definition as `family`, `family:revision` or ARN; resolved against registered definitions. */
  taskDefinition?: string;
  /** Containers; missing fields default from the task definition and task. Default: one per container definition. */
  containers?: Container[];
  tags?: Tag[];
};

export interface RegisterResult {
  taskDefinition: TaskDefinition;
  tags: Tag[];
}

export interface DescribeTasksResult {
  tasks: Task[];
  failures: Failure[];
}

export interface ListTasksFilter {
  desiredStatus?: string;
  family?: string;
  startedBy?: string;
  serviceName?: string;
  launchType?: string;
  containerInstance?: string;
}

const FAMILY_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
const TD_ARN_PATTERN = /^arn:aws[a-z-]*:ecs:([^:]+):(\d{12}):task-definition\/([^:]+)(?::(\d+))?$/;
const CLUSTER_ARN_PATTERN = /^arn:aws[a-z-]*:ecs:([^:]+):(\d{12}):cluster\/(.+)$/;

const clone = <T>(value: T): T => structuredClone(value);

export class EcsState {
  readonly region: string;
  readonly accountId: string;
  readonly principalArn: string;
  readonly now: () => number;
  readonly maxContainers: number;
  readonly maxTags: number;

  /** family → revisions in order (index = revision - 1). Revisions are never reused. */
  private readonly families = new Map<string, TaskDefinition[]>();
  private readonly tags = new Map<string, Tag[]>();
  /** cluster name → cluster. */
  private readonly clusters = new Map<string, Cluster>();
  /** task ARN → task. */
  private readonly tasks = new Map<string, Task>();
  /** service ARN → service (without tags; those live in `tags`). */
  private readonly services = new Map<string, Service>();
  private taskSeq = 0;
  private deploymentSeq = 0;

  constructor(options: EcsStateOptions = {}) {
    this.region = options.region ?? "us-east-1";
    this.accountId = options.accountId ?? "123456789012";
    this.principalArn = options.principalArn ?? `arn:aws:iam::${this.accountId}:role/ecs-standin`;
    this.now = options.now ?? Date.now;
    this.maxContainers = options.maxContainers ?? 10;
    this.maxTags = options.maxTags ?? 50;
  }

  /** Forgets everything (revision numbers start again at 1). */
  reset(): void {
    this.families.clear();
    this.tags.clear();
    this.clusters.clear();
    this.tasks.clear();
    this.services.clear();
    this.taskSeq = 0;
    this.deploymentSeq = 0;
  }

  // ---------------------------------------------------------------- ARNs

  taskDefinitionArn(family: string, revision: number): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:task-definition/${family}:${revision}`;
  }

  clusterArn(name: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:cluster/${name}`;
  }

  taskArn(cluster: string, id: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:task/${cluster}/${id}`;
  }

  // ---------------------------------------------------------------- task definitions

  /** RegisterTaskDefinition: validates, assigns the next revision of the family, stores the tags. */
  registerTaskDefinition(
    input: RegisterTaskDefinitionCommandInput,
    tags: Tag[] = input.tags ?? [],
  ): RegisterResult {
    const { tags: _ignored, ...fields } = input;
    const family = fields.family;
    if (family === undefined || family === "") throw clientError("Family must not be null or empty.");
    if (!FAMILY_PATTERN.test(family)) {
      throw clientError(
        "Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.",
      );
    }
    const containers = fields.containerDefinitions;
    if (!Array.isArray(containers) || containers.length === 0)
      throw clientError("Container list cannot be empty.");
    if (containers.length > this.maxContainers) {
      throw clientError(`Too many containers. A task definition can have at most ${this.maxContainers}.`);
    }
    const names = new Set<string>();
    for (const container of containers) {
      if (!container.name) throw clientError("Container.name should not be null or empty.");
      if (!container.image) throw clientError("Container.image should not be null or empty.");
      if (names.has(container.name)) throw clientError(`Duplicate container name: ${container.name}.`);
      names.add(container.name);
    }
    if (fields.requiresCompatibilities?.includes("FARGATE")) {
      if (fields.networkMode !== "awsvpc") throw clientError("Fargate only supports network mode 'awsvpc'.");
      if (!fields.cpu) throw clientError("Fargate requires that 'cpu' be defined at the task level.");
      if (!fields.memory) throw clientError("Fargate requires that 'memory' be defined at the task level.");
    }
    this.validateTags(tags);

    const revisions = this.families.get(family) ?? [];
    const revision = revisions.length + 1;
    const taskDefinition: TaskDefinition = {
      ...clone(fields),
      family,
      taskDefinitionArn: this.taskDefinitionArn(family, revision),
      revision,
      status: "ACTIVE",
      compatibilities: compatibilitiesOf(fields),
      requiresAttributes: requiredAttributesOf(fields),
      registeredAt: new Date(this.now()),
      registeredBy: this.principalArn,
    };
    revisions.push(taskDefinition);
    this.families.set(family, revisions);
    if (tags.length > 0) this.tags.set(taskDefinition.taskDefinitionArn ?? "", clone(tags));
    return { taskDefinition: clone(taskDefinition), tags: clone(tags) };
  }

  /**
   * The stored definition for `family`, `family:revision` or a task definition ARN (with or without
   * revision). A bare family means its latest ACTIVE revision. Undefined when unknown.
   */
  findTaskDefinition(ref: string): TaskDefinition | undefined {
    const found = this.lookupTaskDefinition(ref);
    return found && clone(found);
  }

  /** DescribeTaskDefinition. */
  describeTaskDefinition(ref: string, includeTags = false): { taskDefinition: TaskDefinition; tags?: Tag[] } {
    const found = this.lookupTaskDefinition(ref);
    if (!found) throw clientError("Unable to describe task definition.");
    const result: { taskDefinition: TaskDefinition; tags?: Tag[] } = { taskDefinition: clone(found) };
    if (includeTags) result.tags = this.listTagsForResource(found.taskDefinitionArn ?? "");
    return result;
  }

  /**
   * ListTaskDefinitions (all pages): ARNs sorted by family then revision. `familyPrefix` is matched as the
   * full family name, as ECS does for this operation. Default status ACTIVE.
   */
  listTaskDefinitionArns(
    filter: { familyPrefix?: string; status?: string; sort?: "ASC" | "DESC" | string } = {},
  ): string[] {
    const status = filter.status ?? "ACTIVE";
    const families = [...this.families.keys()]
      .filter((family) => filter.familyPrefix === undefined || family === filter.familyPrefix)
      .sort();
    const arns: string[] = [];
    for (const family of families) {
      for (const td of this.families.get(family) ?? []) {
        if (td.status === status && td.taskDefinitionArn) arns.push(td.taskDefinitionArn);
      }
    }
    return filter.sort === "DESC" ? arns.reverse() : arns;
  }

  /** ListTaskDefinitionFamilies (all pages). `status`: ACTIVE (default), INACTIVE or ALL. */
  listTaskDefinitionFamilies(filter: { familyPrefix?: string; status?: string } = {}): string[] {
    const status = filter.status ?? "ACTIVE";
    return [...this.families.entries()]
      .filter(([family]) => filter.familyPrefix === undefined || family.startsWith(filter.familyPrefix))
      .filter(([, revisions]) => {
        const active = revisions.some((td) => td.status === "ACTIVE");
        return status === "ALL" || (status === "ACTIVE" ? active : !active);
      })
      .map(([family]) => family)
      .sort();
  }

  /** DeregisterTaskDefinition: status INACTIVE. Needs `family:revision` or a full ARN. */
  deregisterTaskDefinition(ref: string): TaskDefinition {
    const parsed = this.parseTaskDefinitionRef(ref);
    if (!parsed || parsed.revision === undefined) {
      throw clientError("Revision must be specified: use family:revision or the full task definition ARN.");
    }
    const found = this.lookupTaskDefinition(ref);
    if (!found) throw clientError("The specified task definition does not exist.");
    if (found.status === "ACTIVE") {
      found.status = "INACTIVE";
      found.deregisteredAt = new Date(this.now());
    }
    return clone(found);
  }

  /** Every stored revision of every family (all statuses), in registration order per family. */
  allTaskDefinitions(): TaskDefinition[] {
    return [...this.families.values()].flat().map(clone);
  }

  private parseTaskDefinitionRef(ref: string): { family: string; revision?: number } | undefined {
    const arn = TD_ARN_PATTERN.exec(ref);
    if (arn) {
      if (arn[1] !== this.region || arn[2] !== this.accountId) return undefined;
      const family = arn[3] ?? "";
      return arn[4] === undefined ? { family } : { family, revision: Number(arn[4]) };
    }
    if (ref.startsWith("arn:")) return undefined;
    const colon = ref.lastIndexOf(":");
    if (colon === -1) return { family: ref };
    const revision = ref.slice(colon + 1);
    if (!/^\d+$/.test(revision)) return undefined;
    return { family: ref.slice(0, colon), revision: Number(revision) };
  }

  private lookupTaskDefinition(ref: string): TaskDefinition | undefined {
    const parsed = this.parseTaskDefinitionRef(ref);
    if (!parsed) return undefined;
    const revisions = this.families.get(parsed.family);
    if (!revisions) return undefined;
    if (parsed.revision !== undefined) return revisions[parsed.revision - 1];
    return revisions.findLast((td) => td.status === "ACTIVE");
  }

  // ---------------------------------------------------------------- tags

  private validateTags(tags: Tag[]): void {
    if (tags.length > this.maxTags) {
      throw invalidParameter(`Too many tags: a resource can have at most ${this.maxTags} tags.`);
    }
    for (const tag of tags) {
      if (!tag.key) throw invalidParameter("Tag keys must not be null or empty.");
    }
  }

  private resourceExists(arn: string): boolean {
    if (this.tasks.has(arn) || this.services.has(arn)) return true;
    if ([...this.clusters.values()].some((c) => c.clusterArn === arn)) return true;
    const td = TD_ARN_PATTERN.exec(arn);
    return td?.[4] !== undefined && this.lookupTaskDefinition(arn) !== undefined;
  }

  /** TagResource: adds or overwrites tags by key on a task definition revision, cluster or task ARN. */
  tagResource(arn: string, tags: Tag[]): void {
    if (!arn.startsWith("arn:")) throw invalidParameter("Invalid resource ARN.");
    if (!this.resourceExists(arn))
      throw new EcsError("ResourceNotFoundException", "The specified resource wasn't found.");
    const merged = new Map((this.tags.get(arn) ?? []).map((tag) => [tag.key, tag]));
    for (const tag of tags) merged.set(tag.key, clone(tag));
    const result = [...merged.values()];
    this.validateTags(result);
    this.tags.set(arn, result);
  }

  /** UntagResource. */
  untagResource(arn: string, keys: string[]): void {
    if (!this.resourceExists(arn))
      throw new EcsError("ResourceNotFoundException", "The specified resource wasn't found.");
    this.tags.set(
      arn,
      (this.tags.get(arn) ?? []).filter((tag) => !keys.includes(tag.key ?? "")),
    );
  }

  /** ListTagsForResource (empty for a known resource without tags). */
  listTagsForResource(arn: string): Tag[] {
    if (!this.resourceExists(arn))
      throw new EcsError("ResourceNotFoundException", "The specified resource wasn't found.");
    return clone(this.tags.get(arn) ?? []);
  }

  // ---------------------------------------------------------------- clusters

  private clusterName(ref: string): string {
    const arn = CLUSTER_ARN_PATTERN.exec(ref);
    return arn ? (arn[3] ?? "") : ref;
  }

  /** Creates (or returns the existing) cluster. */
  addCluster(name: string, fields: Partial<Cluster> = {}): Cluster {
    const existing = this.clusters.get(name);
    if (existing) return clone(existing);
    const cluster: Cluster = {
      clusterArn: this.clusterArn(name),
      clusterName: name,
      status: "ACTIVE",
      registeredContainerInstancesCount: 0,
      activeServicesCount: 0,
      ...clone(fields),
    };
    this.clusters.set(name, cluster);
    return this.withCounts(cluster);
  }

  /** The cluster by name or ARN, with task counts. */
  getCluster(ref: string): Cluster | undefined {
    const cluster = this.clusters.get(this.clusterName(ref));
    return cluster && this.withCounts(cluster);
  }

  listClusterArns(): string[] {
    return [...this.clusters.values()].map((c) => c.clusterArn ?? "");
  }

  /** DescribeClusters. Default: the `default` cluster. */
  describeClusters(refs: string[] = ["default"]): { clusters: Cluster[]; failures: Failure[] } {
    const clusters: Cluster[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const cluster = this.getCluster(ref);
      if (cluster) clusters.push(cluster);
      else failures.push({ arn: ref.startsWith("arn:") ? ref : this.clusterArn(ref), reason: "MISSING" });
    }
    return { clusters, failures };
  }

  private withCounts(cluster: Cluster): Cluster {
    const tasks = [...this.tasks.values()].filter((t) => t.clusterArn === cluster.clusterArn);
    return {
      ...clone(cluster),
      runningTasksCount: tasks.filter((t) => t.lastStatus === "RUNNING").length,
      pendingTasksCount: tasks.filter((t) => t.lastStatus === "PENDING").length,
    };
  }

  private requireCluster(ref: string | undefined): Cluster {
    const cluster = this.clusters.get(this.clusterName(ref ?? "default"));
    if (!cluster) throw new EcsError("ClusterNotFoundException", "Cluster not found.");
    return cluster;
  }

  // ---------------------------------------------------------------- tasks

  /**
   * Seeds a task in `cluster` (created if missing). Defaults: RUNNING/RUNNING, health UNKNOWN, FARGATE,
   * started now, group `family:<family>`, one RUNNING container per container definition of its task
   * definition (when registered here).
   */
  addTask(cluster: string, seed: TaskSeed = {}): Task {
    const { id: seedId, taskDefinition: ref, containers: seedContainers, tags, ...fields } = seed;
    const clusterName = this.clusterName(cluster);
    const clusterArn = this.addCluster(clusterName).clusterArn ?? "";
    this.taskSeq += 1;
    const id = seedId ?? this.taskSeq.toString(16).padStart(32, "0");
    const taskArn = fields.taskArn ?? this.taskArn(clusterName, id);
    const td = this.lookupTaskDefinition(ref ?? fields.taskDefinitionArn ?? "");
    const taskDefinitionArn = fields.taskDefinitionArn ?? td?.taskDefinitionArn ?? ref;
    if (taskDefinitionArn === undefined) throw new Error("addTask needs taskDefinition or taskDefinitionArn");
    const family =
      td?.family ?? TD_ARN_PATTERN.exec(taskDefinitionArn)?.[3] ?? taskDefinitionArn.split(":")[0];
    const lastStatus = fields.lastStatus ?? "RUNNING";
    const now = new Date(this.now());
    const base: Task = {
      taskArn,
      clusterArn,
      taskDefinitionArn,
      lastStatus,
      desiredStatus: lastStatus === "STOPPED" || lastStatus === "DEPROVISIONING" ? "STOPPED" : "RUNNING",
      healthStatus: "UNKNOWN",
      launchType: "FARGATE",
      group: `family:${family}`,
      createdAt: now,
      cpu: td?.cpu,
      memory: td?.memory,
      version: 1,
      ...(lastStatus === "RUNNING" ? { startedAt: now } : {}),
      ...clone(fields),
    };
    const containerSeeds: Container[] =
      seedContainers ??
      (td?.containerDefinitions ?? []).map((def: ContainerDefinition) => ({
        name: def.name,
        image: def.image,
      }));
    base.containers = containerSeeds.map((container, index) => ({
      containerArn: `arn:aws:ecs:${this.region}:${this.accountId}:container/${clusterName}/${id}/${index}`,
      taskArn,
      lastStatus,
      healthStatus: "UNKNOWN",
      image: td?.containerDefinitions?.find((def) => def.name === container.name)?.image,
      ...clone(container),
    }));
    this.tasks.set(taskArn, base);
    if (tags && tags.length > 0) this.tags.set(taskArn, clone(tags));
    return clone(base);
  }

  /** Merges `patch` into a task (by ARN or ID). `containers` in the patch replace the list. */
  updateTask(ref: string, patch: Partial<Task>): Task {
    const task = this.findTaskRecord(ref);
    if (!task) throw new Error(`no task ${ref}`);
    Object.assign(task, clone(patch));
    return clone(task);
  }

  /** Marks a task STOPPED (desired and last), its containers too. */
  stopTask(ref: string, stoppedReason = "Task stopped by the stand-in"): Task {
    const task = this.findTaskRecord(ref);
    if (!task) throw new Error(`no task ${ref}`);
    const now = new Date(this.now());
    Object.assign(task, { desiredStatus: "STOPPED", lastStatus: "STOPPED", stoppedAt: now, stoppedReason });
    for (const container of task.containers ?? []) container.lastStatus = "STOPPED";
    return clone(task);
  }

  /** The task by ARN or ID, any cluster. */
  getTask(ref: string): Task | undefined {
    const task = this.findTaskRecord(ref);
    return task && clone(task);
  }

  allTasks(): Task[] {
    return [...this.tasks.values()].map(clone);
  }

  private findTaskRecord(ref: string, clusterArn?: string): Task | undefined {
    const byArn = this.tasks.get(ref);
    if (byArn) return clusterArn === undefined || byArn.clusterArn === clusterArn ? byArn : undefined;
    if (ref.startsWith("arn:")) return undefined;
    for (const task of this.tasks.values()) {
      if (task.taskArn?.endsWith(`/${ref}`) && (clusterArn === undefined || task.clusterArn === clusterArn)) {
        return task;
      }
    }
    return undefined;
  }

  /** ListTasks (all pages). `desiredStatus` defaults to RUNNING, as in ECS. */
  listTaskArns(cluster: string | undefined, filter: ListTasksFilter = {}): string[] {
    const { clusterArn } = this.requireCluster(cluster);
    const desiredStatus = filter.desiredStatus ?? "RUNNING";
    return [...this.tasks.values()]
      .filter((t) => t.clusterArn === clusterArn)
      .filter((t) => t.desiredStatus === desiredStatus)
      .filter((t) => filter.family === undefined || familyOfArn(t.taskDefinitionArn) === filter.family)
      .filter((t) => filter.startedBy === undefined || t.startedBy === filter.startedBy)
      .filter((t) => filter.serviceName === undefined || t.group === `service:${filter.serviceName}`)
      .filter((t) => filter.launchType === undefined || t.launchType === filter.launchType)
      .filter(
        (t) => filter.containerInstance === undefined || t.containerInstanceArn === filter.containerInstance,
      )
      .map((t) => t.taskArn ?? "");
  }

  /** DescribeTasks: unknown references come back as failures with reason MISSING. */
  describeTasks(cluster: string | undefined, refs: string[], includeTags = false): DescribeTasksResult {
    const clusterRecord = this.requireCluster(cluster);
    const tasks: Task[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const task = this.findTaskRecord(ref, clusterRecord.clusterArn);
      if (!task) {
        const arn = ref.startsWith("arn:") ? ref : this.taskArn(clusterRecord.clusterName ?? "", ref);
        failures.push({ arn, reason: "MISSING" });
        continue;
      }
      const copy = clone(task);
      if (includeTags) copy.tags = clone(this.tags.get(task.taskArn ?? "") ?? []);
      tasks.push(copy);
    }
    return { tasks, failures };
  }

  // ---------------------------------------------------------------- services

  serviceArn(cluster: string, name: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:service/${this.clusterName(cluster)}/${name}`;
  }

  private newDeployment(taskDefinition: string, desiredCount: number): Deployment {
    this.deploymentSeq += 1;
    const now = new Date(this.now());
    return {
      id: `ecs-svc/${String(this.deploymentSeq).padStart(19, "0")}`,
      status: "PRIMARY",
      taskDefinition,
      desiredCount,
      runningCount: 0,
      pendingCount: desiredCount,
      rolloutState: "IN_PROGRESS",
      rolloutStateReason: "ECS deployment in progress.",
      createdAt: now,
      updatedAt: now,
    };
  }

  private requireTaskDefinitionArn(ref: string | undefined): string {
    const td = ref === undefined ? undefined : this.lookupTaskDefinition(ref);
    if (!td) throw clientError("TaskDefinition not found.");
    if (td.status !== "ACTIVE") throw invalidParameter("TaskDefinition is inactive");
    return td.taskDefinitionArn ?? "";
  }

  /** CreateService: one PRIMARY deployment, rolling out until `completeDeployment` (or `completed: true`). */
  createService(input: CreateServiceCommandInput, options: { completed?: boolean } = {}): Service {
    const cluster = this.requireCluster(input.cluster);
    const name = input.serviceName ?? "";
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(name)) throw invalidParameter("Invalid service name.");
    const arn = this.serviceArn(cluster.clusterName ?? "", name);
    if (this.services.get(arn)?.status === "ACTIVE")
      throw invalidParameter("Creation of service was not idempotent.");
    const controller = input.deploymentController?.type ?? "ECS";
    const taskDefinition =
      controller === "EXTERNAL" ? undefined : this.requireTaskDefinitionArn(input.taskDefinition);
    const desiredCount = input.desiredCount ?? 1;
    const service: Service = {
      serviceArn: arn,
      serviceName: name,
      clusterArn: cluster.clusterArn,
      status: "ACTIVE",
      desiredCount,
      runningCount: 0,
      pendingCount: 0,
      launchType: input.launchType ?? "FARGATE",
      deploymentController: { type: controller },
      ...(taskDefinition ? { taskDefinition } : {}),
      deployments: taskDefinition ? [this.newDeployment(taskDefinition, desiredCount)] : [],
      createdAt: new Date(this.now()),
      createdBy: this.principalArn,
    };
    this.services.set(arn, service);
    if (input.tags?.length) this.tags.set(arn, clone(input.tags));
    if (options.completed !== false && taskDefinition) this.completeDeployment(arn);
    return this.withServiceTags(service, false);
  }

  private findService(cluster: string | undefined, ref: string): Service | undefined {
    if (ref.startsWith("arn:")) return this.services.get(ref);
    const clusterRecord = this.clusters.get(this.clusterName(cluster ?? "default"));
    return clusterRecord
      ? this.services.get(this.serviceArn(clusterRecord.clusterName ?? "", ref))
      : undefined;
  }

  private withServiceTags(service: Service, includeTags: boolean): Service {
    const copy = clone(service);
    if (includeTags) copy.tags = clone(this.tags.get(service.serviceArn ?? "") ?? []);
    return copy;
  }

  /** DescribeServices: at most 10; unknown services come back as failures (MISSING). */
  describeServices(cluster: string | undefined, refs: string[], includeTags = false) {
    this.requireCluster(cluster);
    if (refs.length === 0) throw invalidParameter("Services cannot be empty.");
    if (refs.length > 10) throw invalidParameter("Too many services: DescribeServices accepts at most 10.");
    const services: Service[] = [];
    const failures: Failure[] = [];
    for (const ref of refs) {
      const service = this.findService(cluster, ref);
      if (service) services.push(this.withServiceTags(service, includeTags));
      else failures.push({ arn: ref, reason: "MISSING" });
    }
    return { services, failures };
  }

  /** ListServices: the ACTIVE (and DRAINING) services of the cluster. */
  listServiceArns(cluster: string | undefined): string[] {
    const { clusterArn } = this.requireCluster(cluster);
    return [...this.services.values()]
      .filter((s) => s.clusterArn === clusterArn && s.status !== "INACTIVE")
      .map((s) => s.serviceArn ?? "");
  }

  /** UpdateService: a new task definition starts a new PRIMARY deployment; the old one becomes ACTIVE. */
  updateService(input: UpdateServiceCommandInput): Service {
    this.requireCluster(input.cluster);
    const service = this.findService(input.cluster, input.service ?? "");
    if (!service) throw new EcsError("ServiceNotFoundException", "Service not found.");
    if (service.status !== "ACTIVE")
      throw new EcsError("ServiceNotActiveException", "Service was not ACTIVE.");
    const controller = service.deploymentController?.type ?? "ECS";
    if (input.taskDefinition !== undefined && controller !== "ECS") {
      throw invalidParameter(
        `Unable to update task definition on services with a ${controller} deployment controller.`,
      );
    }
    if (input.desiredCount !== undefined) service.desiredCount = input.desiredCount;
    if (input.taskDefinition !== undefined || input.forceNewDeployment) {
      const taskDefinition = input.taskDefinition
        ? this.requireTaskDefinitionArn(input.taskDefinition)
        : (service.taskDefinition ?? "");
      for (const d of service.deployments ?? []) d.status = "ACTIVE";
      service.deployments = [
        this.newDeployment(taskDefinition, service.desiredCount ?? 1),
        ...(service.deployments ?? []),
      ];
      service.taskDefinition = taskDefinition;
    }
    return this.withServiceTags(service, false);
  }

  /**
   * Finishes the rollout: the PRIMARY deployment COMPLETED and alone, the service's tasks replaced by
   * `desiredCount` RUNNING tasks of its task definition. Returns the deployment (for the event).
   */
  completeDeployment(ref: string): Deployment {
    const service = this.findService(undefined, ref);
    const primary = service?.deployments?.find((d) => d.status === "PRIMARY");
    if (!service || !primary) throw new Error(`no deployment to complete for ${ref}`);
    const cluster = this.clusterName(service.clusterArn ?? "");
    for (const task of this.tasks.values()) {
      if (task.group === `service:${service.serviceName}` && task.desiredStatus === "RUNNING")
        this.stopTask(task.taskArn ?? "", "Deployment replaced the task");
    }
    for (let i = 0; i < (service.desiredCount ?? 0); i++) {
      this.addTask(cluster, {
        taskDefinition: primary.taskDefinition,
        group: `service:${service.serviceName}`,
        startedBy: primary.id,
      });
    }
    Object.assign(primary, {
      rolloutState: "COMPLETED",
      rolloutStateReason: "ECS deployment completed.",
      runningCount: service.desiredCount,
      pendingCount: 0,
      updatedAt: new Date(this.now()),
    });
    service.deployments = [primary];
    service.runningCount = service.desiredCount;
    return clone(primary);
  }

  /** DeleteService (force): INACTIVE at once, its tasks stopped. */
  deleteService(ref: string): void {
    const service = this.findService(undefined, ref);
    if (!service) throw new EcsError("ServiceNotFoundException", "Service not found.");
    service.status = "INACTIVE";
    for (const task of this.tasks.values()) {
      if (task.group === `service:${service.serviceName}` && task.clusterArn === service.clusterArn)
        this.stopTask(task.taskArn ?? "");
    }
  }

  getService(ref: string): Service | undefined {
    const service = this.findService(undefined, ref);
    return service && this.withServiceTags(service, true);
  }
}

function familyOfArn(arn: string | undefined): string | undefined {
  return arn === undefined ? undefined : TD_ARN_PATTERN.exec(arn)?.[3];
}

function compatibilitiesOf(input: RegisterTaskDefinitionCommandInput): TaskDefinition["compatibilities"] {
  const result = new Set<string>(["EC2"]);
  if (input.networkMode === "awsvpc" && input.cpu && input.memory) result.add("FARGATE");
  for (const c of input.requiresCompatibilities ?? []) result.add(c);
  return [...result] as TaskDefinition["compatibilities"];
}

/** Roughly the attributes ECS derives from a definition; enough to look and diff like the real thing. */
function requiredAttributesOf(input: RegisterTaskDefinitionCommandInput): Attribute[] {
  const names = new Set<string>(["com.amazonaws.ecs.capability.docker-remote-api.1.18"]);
  if (input.networkMode === "awsvpc") names.add("ecs.capability.task-eni");
  if (input.taskRoleArn) names.add("com.amazonaws.ecs.capability.task-iam-role");
  for (const c of input.containerDefinitions ?? []) {
    if (c.dependsOn?.length) names.add("ecs.capability.container-ordering");
    if (c.healthCheck) names.add("ecs.capability.container-health-check");
    if (c.logConfiguration?.logDriver === "awslogs") {
      names.add("com.amazonaws.ecs.capability.logging-driver.awslogs");
      if (input.executionRoleArn) names.add("ecs.capability.execution-role-awslogs");
    }
    if (c.secrets?.length) names.add("ecs.capability.secrets.asm.environment-variables");
  }
  return [...names].map((name) => ({ name }));
}
