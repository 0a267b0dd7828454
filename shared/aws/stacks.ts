/** CloudFormation: whether a stack is in the middle of an operation. The client is a parameter. */
import { type CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";

// For handlers that load CloudFormation only on a stack check: the client, imported by name (tree-shaken).
export { CloudFormationClient } from "@aws-sdk/client-cloudformation";

import { classify } from "./errors.ts";

/** The stack's status (e.g. UPDATE_IN_PROGRESS); undefined when the stack does not exist. */
export async function stackStatus(cfn: CloudFormationClient, stackName: string): Promise<string | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0]?.StackStatus;
  } catch (error) {
    // DescribeStacks answers ValidationError "Stack with id X does not exist".
    if ((error as Error).name === "ValidationError" && /does not exist/.test((error as Error).message))
      return undefined;
    throw classify(error);
  }
}
