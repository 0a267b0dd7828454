import type { TaskDefinitionInput } from "#shared/engine/task-definition.ts";

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
