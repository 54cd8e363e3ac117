import { SESSION_ARTIFACT_PREFIXES } from '@wallcrawler/contracts';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { BlockPublicAccess, Bucket, BucketEncryption, HttpMethods, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeFindings, nagText } from './nag.js';

export interface WallcrawlerBlobsProps {
  /**
   * Days a session's artifacts (its downloads, CDP log and recording: the keys under `SESSION_ARTIFACT_PREFIXES`)
   * are kept. @default 30
   */
  sessionArtifactDays?: number;
  /** @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
}

/**
 * The S3 bucket behind the `BlobStore` port: context archives, extension zips and session artifacts. Encrypted,
 * never public, TLS only, with access logs in a bucket of their own; session artifacts expire, and
 * unfinished multipart uploads (a streamed write that failed) are cleared after a day.
 */
export class WallcrawlerBlobs extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(
    scope: Construct,
    id: string,
    { sessionArtifactDays = 30, removalPolicy = RemovalPolicy.RETAIN }: WallcrawlerBlobsProps = {},
  ) {
    super(scope, id);
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'blobs/',
      // A replay page (on the API's origin) fetches its events, and a page passing the front door's limit is
      // redirected to a presigned GET of a stored copy: the browser follows it only with CORS. Any origin may:
      // a presigned URL is its own authorization, and nothing but GET is allowed.
      cors: [{ allowedMethods: [HttpMethods.GET], allowedOrigins: ['*'], maxAge: 300 }],
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // The same prefixes the server writes artifacts under (`@wallcrawler/contracts`'s blob keys); contexts and
        // extensions are the user's own and never expire.
        ...SESSION_ARTIFACT_PREFIXES.map((prefix) => ({ prefix, expiration: Duration.days(sessionArtifactDays) })),
      ],
    });
  }

  /**
   * What a session's task needs: read its context's archive and write it back, read its extension's zip. Listing
   * (key names only) is there so that a context never saved reads as missing (S3 answers 403, not 404, without
   * it).
   */
  grantSessionTask(grantee: IGrantable): void {
    const objects = (prefix: string) => `${this.bucket.bucketArn}/${prefix}*`;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects('contexts/'), objects('extensions/')] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [objects('contexts/')] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    acknowledgeFindings(
      grantee.grantPrincipal as unknown as IConstruct,
      'AwsSolutions-IAM5',
      [
        `Resource::${nagText(this, this.bucket.bucketArn)}/contexts/*`,
        `Resource::${nagText(this, this.bucket.bucketArn)}/extensions/*`,
      ],
      "A task reads and saves contexts' archives and reads extensions' zips, under their prefixes of this stack's blob bucket only: their keys are made at run time.",
    );
  }

  /** Read, write and delete blobs. */
  grantReadWrite(grantee: IGrantable): void {
    this.bucket.grantReadWrite(grantee);
    this.bucket.grantDelete(grantee);
    acknowledgeFindings(
      grantee.grantPrincipal as unknown as IConstruct,
      'AwsSolutions-IAM5',
      [
        'Action::s3:GetObject*',
        'Action::s3:GetBucket*',
        'Action::s3:List*',
        'Action::s3:DeleteObject*',
        'Action::s3:Abort*',
        `Resource::${nagText(this, this.bucket.bucketArn)}/*`,
      ],
      "CDK's read/write/delete action groups on this stack's blob bucket and its objects, nothing else: blob keys are made at run time.",
    );
  }

  /**
   * Write sessions' artifacts (downloads, CDP logs, recordings) under their prefixes, and read them back (a write
   * ends with a HEAD of what it wrote), nothing else: a session's task keeps its own there on every ending. It
   * can neither list nor delete, nor touch contexts or extensions.
   */
  grantKeepSessionArtifacts(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: SESSION_ARTIFACT_PREFIXES.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
      }),
    );
    acknowledgeFindings(
      grantee.grantPrincipal as unknown as IConstruct,
      'AwsSolutions-IAM5',
      SESSION_ARTIFACT_PREFIXES.map((prefix) => `Resource::${nagText(this, this.bucket.bucketArn)}/${prefix}*`),
      "A task serves whichever session claims it, so its artifacts' keys are known only at run time: the grant covers the session artifacts' prefixes of this stack's bucket, and nothing else.",
    );
  }
}
