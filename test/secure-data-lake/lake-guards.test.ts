import { App, CliCredentialsStackSynthesizer, DefaultStackSynthesizer, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations as AssertAnnotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DataZone, ModelArtifact, SecureDataLake, SecureDataLakeProps } from '../../src';
import { everyConstruct } from '../support/every-construct';
import { ACCOUNT, createPolicySimulator, REGION, RequestCheck } from '../support/resolve-template';

process.env.CDK_VALIDATION = 'false';

/**
 * Keys serve only their users (security.md, "From the user's seat" 4): the key policies of the
 * lake's keys deny cryptographic use to every principal the constructs did not grant (plus named
 * administrators), and the bucket policies deny version deletion and configuration changes to all
 * but the administrators (and, for configuration, the principals CloudFormation deploys with).
 */

const ENV = { account: ACCOUNT, region: REGION };
const GUARD_SIDS = ['DenyKeyUseByPrincipalsNotGranted', 'DenyKeyPolicyChangesByOthers', 'DenyVersionDeletionByOthers', 'DenyConfigurationChangesByOthers'];

function lakeStack(props: SecureDataLakeProps = {}, stackProps: ConstructorParameters<typeof Stack>[2] = { env: ENV }) {
  const app = new App();
  const stack = new Stack(app, 'Test', stackProps);
  const lake = new SecureDataLake(stack, 'Lake', props);
  return { app, stack, lake };
}

const idOf = (stack: Stack, c: any) => stack.getLogicalId(c.node.defaultChild);
const statement = (template: Template, logicalId: string, sid: string) => {
  const r = template.toJSON().Resources[logicalId];
  const doc = r.Type === 'AWS::KMS::Key' ? r.Properties.KeyPolicy : r.Properties.PolicyDocument;
  return doc.Statement.find((s: any) => s.Sid === sid);
};
const bucketPolicyId = (template: Template, bucketId: string) => Object.entries<any>(template.toJSON().Resources)
  .find(([, r]) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === bucketId)![0];
const execRole = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`]] };

describe('key policies: cryptographic use only by the principals granted', () => {
  test('the grantees of the lake\'s grants, of a zone bucket\'s grants and of the keys\' own grants are named once each', () => {
    const { stack, lake } = lakeStack();
    const a = new iam.Role(stack, 'A', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const b = new iam.Role(stack, 'B', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const c = new iam.Role(stack, 'C', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const d = new iam.Role(stack, 'D', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    lake.grantRead(a, DataZone.CLEAN);
    lake.grantWrite(a, DataZone.CURATED);
    lake.bucket(DataZone.MODELS).grantRead(b);
    lake.encryptionKey.grantDecrypt(c);
    lake.grantPseudonymize(d);
    (lake.pseudonymizationKey as kms.Key).grantAdmin(c); // administration is not key use
    const template = Template.fromStack(stack);
    const arn = (r: iam.Role) => ({ 'Fn::GetAtt': [idOf(stack, r), 'Arn'] });
    const dataKey = statement(template, idOf(stack, lake.encryptionKey), 'DenyKeyUseByPrincipalsNotGranted');
    expect(dataKey).toEqual({
      Sid: 'DenyKeyUseByPrincipalsNotGranted',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:GenerateMac', 'kms:VerifyMac'],
      Resource: '*',
      Condition: {
        ArnNotEquals: { 'aws:PrincipalArn': [arn(a), arn(b), arn(c)] },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      },
    });
    const hmacKey = statement(template, idOf(stack, lake.pseudonymizationKey), 'DenyKeyUseByPrincipalsNotGranted');
    expect(hmacKey.Condition.ArnNotEquals).toEqual({ 'aws:PrincipalArn': [arn(d)] });
  });

  test('without any grantee the keys deny use to every principal of the account', () => {
    const { stack, lake } = lakeStack();
    const template = Template.fromStack(stack);
    for (const key of [lake.encryptionKey, lake.pseudonymizationKey]) {
      expect(statement(template, idOf(stack, key), 'DenyKeyUseByPrincipalsNotGranted').Condition).toEqual({
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      });
    }
  });

  test('administrators may use the keys; key policy changes are left to the root user, the deployment role and the administrators', () => {
    const { stack, lake } = lakeStack({ administrators: [iam.Role.fromRoleArn(new Stack(), 'X', `arn:aws:iam::${ACCOUNT}:role/break-glass`)] });
    const template = Template.fromStack(stack);
    const use = statement(template, idOf(stack, lake.encryptionKey), 'DenyKeyUseByPrincipalsNotGranted');
    expect(use.Condition.ArnNotEquals).toEqual({ 'aws:PrincipalArn': [`arn:aws:iam::${ACCOUNT}:role/break-glass`] });
    const policy = statement(template, idOf(stack, lake.pseudonymizationKey), 'DenyKeyPolicyChangesByOthers');
    expect(policy).toEqual({
      Sid: 'DenyKeyPolicyChangesByOthers',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'kms:PutKeyPolicy',
      Resource: '*',
      Condition: {
        ArnNotEquals: {
          'aws:PrincipalArn': [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:root`]] },
            execRole,
            `arn:aws:iam::${ACCOUNT}:role/break-glass`,
          ],
        },
      },
    });
  });

  test('keys you bring are left to you', () => {
    const app = new App();
    const stack = new Stack(app, 'Test', { env: ENV });
    const encryptionKey = new kms.Key(stack, 'Mine', { enableKeyRotation: true });
    const lake = new SecureDataLake(stack, 'Lake', { encryptionKey });
    lake.grantRead(new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }), DataZone.CLEAN);
    const template = Template.fromStack(stack);
    expect(statement(template, idOf(stack, encryptionKey), 'DenyKeyUseByPrincipalsNotGranted')).toBeUndefined();
    expect(statement(template, idOf(stack, lake.pseudonymizationKey), 'DenyKeyUseByPrincipalsNotGranted')).toBeDefined();
  });

  test('fails if an administrator is not an IAM principal with an ARN', () => {
    expect(() => lakeStack({ administrators: [new iam.ServicePrincipal('lambda.amazonaws.com')] }))
      .toThrow(/Test\/Lake: invalid administrators: received a principal without an ARN .*give IAM roles or users/);
    expect(() => lakeStack({ administrators: [new iam.ArnPrincipal(`arn:aws:iam::${ACCOUNT}:role/*`)] }))
      .toThrow(/invalid administrators: received "arn:aws:iam::111111111111:role\/\*"; give IAM roles or users by their full ARN, without wildcards/);
  });
});

describe('grantees outside the lake\'s stack', () => {
  function twoStacks() {
    const app = new App();
    const lakeStack_ = new Stack(app, 'LakeStack', { env: ENV });
    const lake = new SecureDataLake(lakeStack_, 'Lake');
    const other = new Stack(app, 'Consumers', { env: ENV });
    return { app, lakeStack: lakeStack_, lake, other };
  }

  test('a role of another stack with a literal name is named without a cross-stack reference, and the app synthesizes', () => {
    const { app, lakeStack: s, lake, other } = twoStacks();
    const role = new iam.Role(other, 'Named', { roleName: 'hearing-reader', path: '/ml/', assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    lake.grantRead(role, DataZone.CURATED);
    const assembly = app.synth();
    const template = assembly.getStackByName('LakeStack').template;
    const key = template.Resources[idOf(s, lake.encryptionKey)].Properties.KeyPolicy.Statement.find((x: any) => x.Sid === 'DenyKeyUseByPrincipalsNotGranted');
    expect(key.Condition.ArnNotEquals['aws:PrincipalArn']).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:role/ml/hearing-reader`]] },
    ]);
    expect(JSON.stringify(template)).not.toContain('Fn::ImportValue');
  });

  test('a role imported by its ARN works from any stack', () => {
    const { app, lakeStack: s, lake, other } = twoStacks();
    lake.grantRead(iam.Role.fromRoleArn(other, 'Imported', `arn:aws:iam::${ACCOUNT}:role/analyst`), DataZone.CURATED);
    const template = app.synth().getStackByName('LakeStack').template;
    const key = template.Resources[idOf(s, lake.encryptionKey)].Properties.KeyPolicy.Statement.find((x: any) => x.Sid === 'DenyKeyUseByPrincipalsNotGranted');
    expect(key.Condition.ArnNotEquals['aws:PrincipalArn']).toEqual([`arn:aws:iam::${ACCOUNT}:role/analyst`]);
  });

  test('fails if a construct of another stack is granted through a role without a fixed name', () => {
    const { lake, other } = twoStacks();
    const role = new iam.Role(other, 'Unnamed', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(() => lake.grantRead(role, DataZone.CURATED)).toThrow(
      /LakeStack\/Lake\/EncryptionKey: cannot allow key use to Consumers\/Unnamed: it is a principal of stack Consumers without a fixed name.*Define the grantee in the lake's stack, give its role a literal roleName, or import the role by its ARN/,
    );
  });

  test('a grant on an imported lake warns that the defining lake must grant the same principal', () => {
    const stack = new Stack(new App(), 'Test', { env: ENV });
    const arn = (name: string) => `arn:aws:s3:::${name}`;
    const lake = SecureDataLake.fromSecureDataLakeAttributes(stack, 'Imported', {
      rawBucketArn: arn('raw'),
      cleanBucketArn: arn('clean'),
      curatedBucketArn: arn('curated'),
      quarantineBucketArn: arn('quarantine'),
      modelsBucketArn: arn('models'),
      encryptionKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1`,
    });
    lake.grantRead(new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }), DataZone.CLEAN);
    AssertAnnotations.fromStack(stack).hasWarning('/Test/Imported', Match.stringLikeRegexp('grant the same principals on the defining lake too'));
  });
});

describe('bucket policies: version deletion and configuration changes', () => {
  const zoneIds = (stack: Stack, lake: SecureDataLake) => [
    ...Object.values(DataZone).map((z) => idOf(stack, lake.bucket(z))),
    idOf(stack, lake.accessLogsBucket),
  ];

  test('every bucket denies deleting versions to all, and configuration changes to all but the CloudFormation execution role', () => {
    const { stack, lake } = lakeStack();
    const template = Template.fromStack(stack);
    for (const bucketId of zoneIds(stack, lake)) {
      const policyId = bucketPolicyId(template, bucketId);
      expect(statement(template, policyId, 'DenyVersionDeletionByOthers')).toEqual({
        Sid: 'DenyVersionDeletionByOthers',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
      });
      const config = statement(template, policyId, 'DenyConfigurationChangesByOthers');
      expect(config.Action).toEqual(expect.arrayContaining([
        's3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketVersioning', 's3:PutLifecycleConfiguration',
        's3:PutEncryptionConfiguration', 's3:PutBucketObjectLockConfiguration', 's3:PutBucketPublicAccessBlock', 's3:PutBucketLogging',
      ]));
      expect(config.Resource).toEqual({ 'Fn::GetAtt': [bucketId, 'Arn'] });
      expect(config.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': [execRole] } });
    }
  });

  test('in a region-agnostic stack the execution role is named with the stack\'s account and region', () => {
    const { stack, lake } = lakeStack({}, {});
    const template = Template.fromStack(stack);
    const config = statement(template, bucketPolicyId(template, idOf(stack, lake.bucket(DataZone.RAW))), 'DenyConfigurationChangesByOthers');
    expect(config.Condition.ArnNotEquals['aws:PrincipalArn']).toEqual([{
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/cdk-hnb659fds-cfn-exec-role-', { Ref: 'AWS::AccountId' }, '-', { Ref: 'AWS::Region' }]],
    }]);
  });

  test('a synthesizer\'s own execution role and qualifier are followed', () => {
    const { stack, lake } = lakeStack({}, { env: ENV, synthesizer: new DefaultStackSynthesizer({ qualifier: 'health01' }) });
    const template = Template.fromStack(stack);
    const config = statement(template, bucketPolicyId(template, idOf(stack, lake.bucket(DataZone.RAW))), 'DenyConfigurationChangesByOthers');
    expect(JSON.stringify(config.Condition)).toContain(`:role/cdk-health01-cfn-exec-role-${ACCOUNT}-${REGION}`);
  });

  test('administrators may delete versions; with DESTROY the auto-delete provider may empty the buckets', () => {
    const admin = iam.Role.fromRoleArn(new Stack(), 'X', `arn:aws:iam::${ACCOUNT}:role/break-glass`);
    const { stack, lake } = lakeStack({ administrators: [admin], removalPolicy: RemovalPolicy.DESTROY, dataEventsTrail: {} });
    const template = Template.fromStack(stack);
    const provider = { 'Fn::GetAtt': ['CustomS3AutoDeleteObjectsCustomResourceProviderRole3B1BD092', 'Arn'] };
    const trailBucket = idOf(stack, lake.node.findChild('TrailBucket'));
    for (const bucketId of [...zoneIds(stack, lake), trailBucket]) {
      const policyId = bucketPolicyId(template, bucketId);
      expect(statement(template, policyId, 'DenyVersionDeletionByOthers').Condition).toEqual({
        ArnNotEquals: { 'aws:PrincipalArn': [admin.roleArn, provider] },
      });
      expect(statement(template, policyId, 'DenyConfigurationChangesByOthers').Condition).toEqual({
        ArnNotEquals: { 'aws:PrincipalArn': [execRole, admin.roleArn, provider] },
      });
    }
  });

  test('deploymentPrincipals replaces the execution role (another synthesizer, another deployment role)', () => {
    const deployer = iam.Role.fromRoleArn(new Stack(), 'D', `arn:aws:iam::${ACCOUNT}:role/deployer`);
    const { stack, lake } = lakeStack({ deploymentPrincipals: [deployer] }, { env: ENV, synthesizer: new CliCredentialsStackSynthesizer() });
    const template = Template.fromStack(stack);
    const config = statement(template, bucketPolicyId(template, idOf(stack, lake.bucket(DataZone.CLEAN))), 'DenyConfigurationChangesByOthers');
    expect(config.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': [`arn:aws:iam::${ACCOUNT}:role/deployer`] } });
  });

  test('fails if the deployment principals cannot be known', () => {
    expect(() => lakeStack({}, { env: ENV, synthesizer: new CliCredentialsStackSynthesizer() })).toThrow(
      /Test\/Lake: cannot tell which principal deploys stack Test: its synthesizer is a CliCredentialsStackSynthesizer.*set deploymentPrincipals/,
    );
    expect(() => lakeStack({ deploymentPrincipals: [] })).toThrow(/Test\/Lake: invalid deploymentPrincipals: received \[\]/);
  });
});

/**
 * Every construct role keeps exactly what it had: one stack with every construct, evaluated twice
 * with the simulator, once as synthesized and once without the guard statements (what the
 * policies were before them). Each role's probes are built from its own Allow statements on the
 * lake (one request per action, resource and condition); the neighbours are what the guards take
 * away from everyone not granted.
 */
describe('every construct role keeps what it had', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Everything', { env: ENV });
  const { lake } = everyConstruct(stack, (l) => ModelArtifact.fromDataLake(l, 'hearing-who-grade/model.onnx', { version: 'v1', sha256: 'a'.repeat(64) }));
  const intruder = new iam.Role(stack, 'Intruder', { assumedBy: new iam.AccountRootPrincipal() });
  intruder.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*', 'kms:*'], resources: ['*'] }));

  const after = Template.fromStack(stack).toJSON();
  const before = JSON.parse(JSON.stringify(after));
  for (const r of Object.values<any>(before.Resources)) {
    const doc = r.Type === 'AWS::KMS::Key' ? r.Properties.KeyPolicy : r.Type === 'AWS::S3::BucketPolicy' ? r.Properties.PolicyDocument : undefined;
    if (doc) doc.Statement = doc.Statement.filter((s: any) => !GUARD_SIDS.includes(s.Sid));
  }
  const simAfter = createPolicySimulator(after);
  const simBefore = createPolicySimulator(before);
  const id = (c: any) => stack.getLogicalId(c.node.defaultChild);
  const lakeKey = simAfter.arnOf(id(lake.encryptionKey));
  const hmacKey = simAfter.arnOf(id(lake.pseudonymizationKey));
  const buckets = Object.values(DataZone).map((z) => simAfter.arnOf(id(lake.bucket(z))));
  const onLake = (resource: string) => resource === lakeKey || resource === hmacKey || buckets.some((b) => resource === b || resource.startsWith(`${b}/`));
  const roles = Object.keys(after.Resources).filter((r) => after.Resources[r].Type === 'AWS::IAM::Role');

  /** One concrete request per (action, resource) of the role's Allow statements on the lake, meeting their conditions. */
  function ownProbes(roleId: string): RequestCheck[] {
    const probes = new Map<string, RequestCheck>();
    for (const { policy } of simAfter.identityPoliciesOf(roleId)) {
      for (const s of policy.Statement.filter((x: any) => x.Effect === 'Allow')) {
        const context: Record<string, string> = {};
        for (const [op, kv] of Object.entries<any>(s.Condition ?? {})) {
          if (!/^(String|Arn)(Equals|Like)$/.test(op)) continue;
          for (const [k, v] of Object.entries<any>(kv)) context[k] = String([v].flat()[0]).replace(/\*/g, 'probe');
        }
        for (const resource of [s.Resource].flat().map(String).filter(onLake)) {
          for (const action of [s.Action].flat().map(String)) {
            const concrete = action.replace(/\*$/, '').replace(/^kms:ReEncrypt$/, 'kms:ReEncryptFrom');
            const r = resource.replace(/\*/g, 'probe');
            const extra: Record<string, string> = {};
            if (concrete.startsWith('kms:') && r === lakeKey && !context['kms:ViaService']) extra['kms:ViaService'] = `s3.${REGION}.amazonaws.com`;
            if (concrete === 's3:PutObject') Object.assign(extra, { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': lakeKey });
            const probe = { action: concrete, resource: r, context: { ...context, ...extra } };
            probes.set(JSON.stringify(probe), probe);
          }
        }
      }
    }
    return [...probes.values()];
  }

  const neighbours: RequestCheck[] = [
    { action: 'kms:Decrypt', resource: lakeKey, context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
    { action: 'kms:GenerateDataKey', resource: lakeKey, context: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
    { action: 'kms:GenerateMac', resource: hmacKey },
    { action: 'kms:PutKeyPolicy', resource: lakeKey },
    ...buckets.flatMap((b) => [
      { action: 's3:DeleteObjectVersion', resource: `${b}/probe` },
      { action: 's3:PutBucketPolicy', resource: b },
      { action: 's3:PutLifecycleConfiguration', resource: b },
    ]),
  ];

  async function count(sim: typeof simAfter, roleId: string, checks: RequestCheck[]) {
    let allowed = 0;
    const decisions: string[] = [];
    for (const check of checks) {
      const d = await sim.decide(roleId, check);
      decisions.push(d);
      if (d === 'Allowed') allowed++;
    }
    return { allowed, denied: checks.length - allowed, decisions };
  }

  test('same decisions on each role\'s own lake permissions; the neighbours denied to every role not granted them', async () => {
    const rows: string[] = [];
    let probed = 0;
    for (const roleId of roles) {
      const own = ownProbes(roleId);
      const ownBefore = await count(simBefore, roleId, own);
      const ownAfter = await count(simAfter, roleId, own);
      expect([roleId, own.map((p, i) => `${p.action} ${p.resource} ${ownAfter.decisions[i]}`)])
        .toEqual([roleId, own.map((p, i) => `${p.action} ${p.resource} ${ownBefore.decisions[i]}`)]);
      const nBefore = await count(simBefore, roleId, neighbours);
      const nAfter = await count(simAfter, roleId, neighbours);
      probed += own.length;
      if (own.length > 0 || nBefore.allowed > 0 || nAfter.allowed > 0) {
        rows.push(`${roleId.padEnd(64)} own ${String(ownBefore.allowed).padStart(2)}/${own.length} -> ${String(ownAfter.allowed).padStart(2)}/${own.length}   neighbours allowed ${String(nBefore.allowed).padStart(2)} -> ${nAfter.allowed} of ${neighbours.length}`);
      }
      // A role may keep a neighbour only if it was granted it (its own key use); nobody deletes versions or changes buckets.
      neighbours.forEach((n, i) => {
        if (nAfter.decisions[i] !== 'Allowed') return;
        expect([roleId, n.action]).toEqual([roleId, expect.stringMatching(/^kms:(Decrypt|GenerateDataKey|GenerateMac)$/)]);
        expect(own.some((p) => p.action === n.action && p.resource === n.resource)).toBe(true);
      });
    }
    // eslint-disable-next-line no-console
    console.log(`IAM simulator, allowed before -> after (own lake permissions; neighbours):\n${rows.join('\n')}`);
    expect(probed).toBeGreaterThan(40);
    const intruderId = id(intruder);
    expect((await count(simBefore, intruderId, neighbours)).allowed).toBe(neighbours.length);
    expect((await count(simAfter, intruderId, neighbours)).allowed).toBe(0);
  });
});
