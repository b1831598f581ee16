/**
 * The DynamoDB document client and its commands, as every repository imports them: lib-dynamodb's
 * own (marshalled with removeUndefinedValues: lib/db/client.ts). Items inside errors
 * (CancellationReasons, a failed condition's Item) stay in DynamoDB's form: lib/db/errors.ts
 * unmarshalls them.
 */
import type {
  DeleteCommandInput as SdkDeleteCommandInput,
  PutCommandInput as SdkPutCommandInput,
  QueryCommandInput as SdkQueryCommandInput,
  ScanCommandInput as SdkScanCommandInput,
  UpdateCommandInput as SdkUpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';

export {
  BatchGetCommand,
  type BatchGetCommandInput,
  type BatchGetCommandOutput,
  DeleteCommand,
  type DeleteCommandOutput,
  DynamoDBDocumentClient as DocumentClient,
  GetCommand,
  type GetCommandInput,
  type GetCommandOutput,
  PutCommand,
  type PutCommandOutput,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  type TransactWriteCommandOutput,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';

/** The legacy parameters (KeyConditions, Expected …) are left out of the input types: only expressions. */
type Legacy =
  | 'KeyConditions'
  | 'QueryFilter'
  | 'ScanFilter'
  | 'Expected'
  | 'AttributeUpdates'
  | 'ConditionalOperator';
export type DeleteCommandInput = Omit<SdkDeleteCommandInput, Legacy>;
export type PutCommandInput = Omit<SdkPutCommandInput, Legacy>;
export type QueryCommandInput = Omit<SdkQueryCommandInput, Legacy>;
export type ScanCommandInput = Omit<SdkScanCommandInput, Legacy>;
export type UpdateCommandInput = Omit<SdkUpdateCommandInput, Legacy>;
