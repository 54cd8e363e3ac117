import { type DEFAULT_TABLE_NAMES, TABLES, type TableDefinition, type TableKey } from '@wallcrawler/contracts';
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, StreamViewType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeFindings, nagText } from './nag.js';

export interface WallcrawlerDataProps {
  /**
   * Physical table names. Leave them to CloudFormation (unique per stack) unless a fixed name is needed.
   * @default generated names
   */
  tableNames?: Partial<Record<TableKey, string>>;
  /** @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
}

const attributeType = (type: 'S' | 'N') => (type === 'S' ? AttributeType.STRING : AttributeType.NUMBER);

/**
 * The DynamoDB tables, created from the same description the store reads them by (`TABLES` in
 * `@wallcrawler/contracts`): keys, the `projectId-createdAt` and `status-expiresAt` indexes, TTL on ended
 * sessions, the sessions stream. On-demand billing and point-in-time recovery.
 */
export class WallcrawlerData extends Construct {
  readonly sessions: TableV2;
  readonly projects: TableV2;
  readonly apiKeys: TableV2;
  readonly tasks: TableV2;
  readonly resources: TableV2;

  constructor(
    scope: Construct,
    id: string,
    { tableNames = {}, removalPolicy = RemovalPolicy.RETAIN }: WallcrawlerDataProps = {},
  ) {
    super(scope, id);
    const table = (key: TableKey, constructId: string) => {
      const definition: TableDefinition = TABLES[key];
      return new TableV2(this, constructId, {
        ...(tableNames[key] ? { tableName: tableNames[key] } : {}),
        partitionKey: { name: definition.partitionKey.name, type: attributeType(definition.partitionKey.type) },
        billing: Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        removalPolicy,
        ...(definition.ttlAttribute ? { timeToLiveAttribute: definition.ttlAttribute } : {}),
        ...(definition.stream ? { dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES } : {}),
        globalSecondaryIndexes: definition.indexes.map((index) => ({
          indexName: index.name,
          partitionKey: { name: index.partitionKey.name, type: attributeType(index.partitionKey.type) },
          ...(index.sortKey ? { sortKey: { name: index.sortKey.name, type: attributeType(index.sortKey.type) } } : {}),
        })),
      });
    };
    this.sessions = table('sessions', 'Sessions');
    this.projects = table('projects', 'Projects');
    this.apiKeys = table('apiKeys', 'ApiKeys');
    this.tasks = table('tasks', 'Tasks');
    this.resources = table('resources', 'Resources');
  }

  /**
   * What the API needs, and no more: items read and written (transactions are authorized per item by Put and
   * Update), queries of the session and key indexes, and the scans that list projects and keys. No deletes
   * (contexts and extensions, which the API would delete, are not served on AWS yet), no stream reads, no
   * table administration.
   */
  grantApi(grantee: IGrantable): void {
    const indexes = [this.sessions, this.apiKeys, this.tasks].map((t) => `${t.tableArn}/index/*`);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:ConditionCheckItem',
          'dynamodb:Query',
          'dynamodb:Scan',
        ],
        resources: [
          this.sessions.tableArn,
          this.projects.tableArn,
          this.apiKeys.tableArn,
          this.tasks.tableArn,
          this.resources.tableArn,
        ],
      }),
    );

    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexes }),
    );
    // Deleting contexts and extensions (their items and name reservations), and releasing a context's lock with
    // a session's ending: the resources table only; sessions, projects and keys are never deleted.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:DeleteItem'], resources: [this.resources.tableArn] }),
    );
    acknowledgeFindings(
      grantee.grantPrincipal as unknown as IConstruct,
      'AwsSolutions-IAM5',
      [this.sessions, this.apiKeys, this.tasks].map((t) => `Resource::${nagText(this, t.tableArn)}/index/*`),
      "The API queries these tables' own indexes (sessions by project and by status, keys by id, idle warm-pool tasks); `<table>/index/*` is only those.",
    );
  }

  /**
   * What a controller task needs: read its session, and move it (and its project's admission counter) with
   * conditional updates. Nothing else: no scans, no deletes, no API keys.
   */
  grantController(grantee: IGrantable): void {
    // The tables themselves only, not their indexes: a controller never queries.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
        resources: [this.sessions.tableArn],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [this.projects.tableArn] }),
    );
  }

  /** What a warm-pool task needs besides: register itself, read its own item, move it (claimed, retired). */
  grantPoolTask(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [this.tasks.tableArn],
      }),
    );
  }

  /** What the warm-pool scaler needs: count the pool's idle and claimed tasks. */
  grantPoolCensus(grantee: IGrantable): void {
    const index = `${this.tasks.tableArn}/index/*`;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: [index] }),
    );
    acknowledgeFindings(
      grantee.grantPrincipal as unknown as IConstruct,
      'AwsSolutions-IAM5',
      [`Resource::${nagText(this, this.tasks.tableArn)}/index/*`],
      "The scaler counts the pool's tasks by status through the tasks table's own index; `<table>/index/*` is only that.",
    );
  }

  /**
   * What a session's task needs of the resources table for a context it saves: check that the context still
   * exists and date the save (its item, keyed by the context's id; these attributes only). Nothing else of it.
   */
  grantContextItems(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [this.resources.tableArn],
        // Only these attributes, and reads must name them (a read naming none would return the whole item).
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['resourceId', 'kind', 'updatedAt'] },
          StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES', 'dynamodb:ReturnValues': ['NONE'] },
        },
      }),
    );
  }

  /**
   * What ends sessions needs (a task's own ending, the task-state handler's for a task that died): release the
   * lock of a context the session persisted (`context-lock#<id>` items only), in the ending's transaction.
   */
  grantContextLocks(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:DeleteItem'],
        resources: [this.resources.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['context-lock#*'] } },
      }),
    );
  }

  /** What the task-state handler needs: read sessions and end them (counter included). */
  grantTaskStateHandler(grantee: IGrantable): void {
    this.grantController(grantee);
    // To find the session a warm-pool task served, and retire the task.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [this.tasks.tableArn] }),
    );
  }

  /** The names the runtime reads, keyed as `DEFAULT_TABLE_NAMES` is. */
  get tableNames(): Record<keyof typeof DEFAULT_TABLE_NAMES, string> {
    return {
      sessions: this.sessions.tableName,
      projects: this.projects.tableName,
      apiKeys: this.apiKeys.tableName,
      tasks: this.tasks.tableName,
      resources: this.resources.tableName,
    };
  }
}
