import type { Container, TaskDefinitionInput } from "#shared/engine/task-definition.ts";

/** The bundled example's shape: one essential Fargate container logging to CloudWatch. */
export function fargateApp(overrides: Partial<TaskDefinitionInput> = {}): TaskDefinitionInput {
  return {
    family: "app",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: "256",
    memory: "512",
    containerDefinitions: [
      {
        name: "app",
        image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
        essential: true,
        portMappings: [{ containerPort: 8080, protocol: "tcp" }],
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": "/ecs/app",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "ecs",
          },
        },
      },
    ],
    tags: [{ key: "dns-cache", value: "enabled" }],
    ...overrides,
  };
}

/** An EC2 bridge-mode definition (the node cache path): containers c0, c1, … with c0 essential. */
export function bridgeApp(
  containers: Partial<Container>[] = [{}],
  overrides: Partial<TaskDefinitionInput> = {},
): TaskDefinitionInput {
  return {
    family: "web",
    networkMode: "bridge",
    requiresCompatibilities: ["EC2"],
    containerDefinitions: containers.map((c, i) => ({
      name: `c${i}`,
      image: "nginx:1.27",
      memoryReservation: 128,
      essential: i === 0,
      ...c,
    })),
    tags: [{ key: "dns-cache", value: "enabled" }],
    ...overrides,
  } as TaskDefinitionInput;
}
