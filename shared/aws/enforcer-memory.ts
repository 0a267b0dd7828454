/**
 * What the enforcer remembers of each service it moved, in DynamoDB (the injector's duplicate-guard
 * table, under a key prefix of its own): from which source revision to which copy, and whether a move
 * back by the service's owner was reported already. The client is a parameter.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { classify } from "./errors.ts";

export interface Move {
  /** The source revision the service was moved off. */
  sourceArn: string;
  /** The copy it was moved to. */
  copyArn: string;
  /** The owner's move back to the source was reported (once per source). */
  revertReported: boolean;
}

export interface Memory {
  lastMove(serviceArn: string): Promise<Move | undefined>;
  recordMove(serviceArn: string, move: Omit<Move, "revertReported">): Promise<void>;
  /** True for the first caller only: the revert of this move is reported once. */
  claimRevertReport(serviceArn: string, sourceArn: string): Promise<boolean>;
}

/** Kept for a year after the last move: long enough for any IaC apply, short enough to forget deleted services. */
const KEEP_SECONDS = 366 * 24 * 3600;
const PREFIX = "dns-cache:enforcer:service:";

export function dynamoDbMemory(client: DynamoDBClient, tableName: string, now = Date.now): Memory {
  const key = (serviceArn: string) => ({ id: { S: `${PREFIX}${serviceArn}` } });
  return {
    async lastMove(serviceArn) {
      try {
        const out = await client.send(
          new GetItemCommand({ TableName: tableName, Key: key(serviceArn), ConsistentRead: true }),
        );
        const item = out.Item;
        if (!item?.sourceArn?.S || !item.copyArn?.S) return undefined;
        return {
          sourceArn: item.sourceArn.S,
          copyArn: item.copyArn.S,
          revertReported: item.revertReported?.BOOL === true,
        };
      } catch (error) {
        throw classify(error);
      }
    },
    async recordMove(serviceArn, move) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...key(serviceArn),
              sourceArn: { S: move.sourceArn },
              copyArn: { S: move.copyArn },
              revertReported: { BOOL: false },
              expiration: { N: String(Math.floor(now() / 1000) + KEEP_SECONDS) },
            },
          }),
        );
      } catch (error) {
        throw classify(error);
      }
    },
    async claimRevertReport(serviceArn, sourceArn) {
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key(serviceArn),
            UpdateExpression: "SET revertReported = :yes",
            ConditionExpression: "sourceArn = :source AND revertReported = :no",
            ExpressionAttributeValues: {
              ":yes": { BOOL: true },
              ":no": { BOOL: false },
              ":source": { S: sourceArn },
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw classify(error);
      }
    },
  };
}

/** Audit mode and tests: a memory that lives as long as the object. */
export function inMemory(): Memory & { moves: Map<string, Move> } {
  const moves = new Map<string, Move>();
  return {
    moves,
    async lastMove(serviceArn) {
      const m = moves.get(serviceArn);
      return m && { ...m };
    },
    async recordMove(serviceArn, move) {
      moves.set(serviceArn, { ...move, revertReported: false });
    },
    async claimRevertReport(serviceArn, sourceArn) {
      const m = moves.get(serviceArn);
      if (!m || m.sourceArn !== sourceArn || m.revertReported) return false;
      m.revertReported = true;
      return true;
    },
  };
}
