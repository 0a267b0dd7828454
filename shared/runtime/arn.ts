/** Parts of ARNs, parsed without any AWS call. */
const ARN = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/;

export interface ArnParts {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(arn: string): ArnParts | undefined {
  const m = ARN.exec(arn);
  if (!m) return undefined;
  return {
    partition: m[1] ?? "",
    service: m[2] ?? "",
    region: m[3] ?? "",
    account: m[4] ?? "",
    resource: m[5] ?? "",
  };
}

/** `prod` of `arn:…:cluster/prod`; a bare name is returned as it is. */
export function clusterNameOf(clusterRef: string): string {
  const resource = parseArn(clusterRef)?.resource;
  return resource?.startsWith("cluster/") ? resource.slice("cluster/".length) : clusterRef;
}

/** `app` of `arn:…:task-definition/app:7`. */
export function familyOf(taskDefinitionArn: string): string | undefined {
  const resource = parseArn(taskDefinitionArn)?.resource;
  return resource?.startsWith("task-definition/")
    ? resource.slice("task-definition/".length).replace(/:\d+$/, "")
    : undefined;
}
