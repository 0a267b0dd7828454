/**
 * DynamoDB for the enforcer (the duplicate guard and the memory of moves), in a module of its own: the handler
 * imports it when a table is configured and first needed, so it is not part of every cold start.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { dynamoDbMemory, type Memory } from "#shared/aws/enforcer-memory.ts";

export const dynamo = new DynamoDBClient({});

export function memoryFor(tableName: string): Memory {
  return dynamoDbMemory(dynamo, tableName);
}
