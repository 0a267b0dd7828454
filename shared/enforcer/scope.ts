/** One account and region within one invocation: its clients, and what was read there once. */
import type { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { Target } from "#shared/aws/clients.ts";
import { type DescribedTaskDefinition, describeTaskDefinition } from "#shared/aws/ecs-task-definitions.ts";

export interface ReadCounts {
  DescribeTaskDefinition: number;
  DescribeStacks: number;
}

/** Task definitions are described once per invocation: by family (its newest) or by family:revision. */
export class Scope {
  readonly counts: ReadCounts = { DescribeTaskDefinition: 0, DescribeStacks: 0 };
  private readonly definitions = new Map<string, Promise<DescribedTaskDefinition | undefined>>();
  private readonly stacks = new Map<string, Promise<string | undefined>>();
  private readonly once = new Map<string, Promise<unknown>>();

  readonly target: Target;
  readonly ecs: ECSClient;
  private readonly cfn: () => CloudFormationClient | Promise<CloudFormationClient>;

  constructor(
    target: Target,
    ecs: ECSClient,
    cfn: () => CloudFormationClient | Promise<CloudFormationClient>,
  ) {
    this.target = target;
    this.ecs = ecs;
    this.cfn = cfn;
  }

  private describe(ref: string): Promise<DescribedTaskDefinition | undefined> {
    this.counts.DescribeTaskDefinition += 1;
    return describeTaskDefinition(this.ecs, ref);
  }

  /** The family's newest ACTIVE revision; remembered under its own revision too. */
  newest(family: string): Promise<DescribedTaskDefinition | undefined> {
    let pending = this.definitions.get(family);
    if (!pending) {
      pending = this.describe(family);
      this.definitions.set(family, pending);
      pending.then(
        (d) => {
          const r = d?.taskDefinition?.revision;
          if (r !== undefined) this.definitions.set(`${family}:${r}`, Promise.resolve(d));
        },
        () => this.definitions.delete(family),
      );
    }
    return pending;
  }

  revision(family: string, revision: number): Promise<DescribedTaskDefinition | undefined> {
    const key = `${family}:${revision}`;
    let pending = this.definitions.get(key);
    if (!pending) {
      pending = this.describe(key);
      this.definitions.set(key, pending);
      pending.catch(() => this.definitions.delete(key));
    }
    return pending;
  }

  /** `work` once per key in this invocation (e.g. the copy of one source for all its services). */
  memo<T>(key: string, work: () => Promise<T>): Promise<T> {
    let pending = this.once.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = work();
      this.once.set(key, pending);
      pending.catch(() => this.once.delete(key));
    }
    return pending;
  }

  stackStatus(name: string): Promise<string | undefined> {
    let pending = this.stacks.get(name);
    if (!pending) {
      this.counts.DescribeStacks += 1;
      // CloudFormation is loaded on the first stack check only.
      pending = Promise.all([this.cfn(), import("#shared/aws/stacks.ts")]).then(([cfn, { stackStatus }]) =>
        stackStatus(cfn, name),
      );
      this.stacks.set(name, pending);
      pending.catch(() => this.stacks.delete(name));
    }
    return pending;
  }
}
