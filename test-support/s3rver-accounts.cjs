// Preloaded into the s3rver process (`node -r`): s3rver knows one access key, S3RVER, while DynamoDB Local keeps
// tables per access key. Registering the topology's key (`local`) lets the API and the tasks reach both with
// the one set of credentials their environment gives them, as on AWS. s3rver does not check V4 signatures.
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
DUMMY_ACCOUNT.createKeyPair('local', 'local');
