import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ObjectLockMode, SecureDataLake, SecureUploadApi } from '../../src';
import { createSecurityTestApp, expectNoUnacknowledgedFindings, formatSecurityReport, runSecurityChecks, SecurityReport } from '../support/security-harness';
import { useTemplateScans } from '../support/template-scanners';

const scan = useTemplateScans();
const keep = (report: SecurityReport) => scan(report.templateFiles);

const ENV = { account: '111111111111', region: 'eu-central-1' };

describe('security packs and the CloudFormation validator', () => {
  test('minimal configuration: zero unacknowledged findings', () => {
    const app = createSecurityTestApp();
    const stack = new Stack(app, 'LakeMinimal', { env: ENV });
    const lake = new SecureDataLake(stack, 'Lake');
    new SecureUploadApi(stack, 'Uploads', { lake });
    const report = runSecurityChecks(app, { name: 'secure-data-lake-minimal' });
    keep(report);
    console.log(formatSecurityReport(report));
    expectNoUnacknowledgedFindings(report);
  });

  test('maximal configuration: zero unacknowledged findings', () => {
    const app = createSecurityTestApp();
    const stack = new Stack(app, 'LakeMaximal', { env: ENV });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-central-1a', 'eu-central-1b'],
      privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    });
    const endpoint = ec2.GatewayVpcEndpoint.fromGatewayVpcEndpointId(stack, 'S3Endpoint', 'vpce-0123456789abcdef0');
    const lake = new SecureDataLake(stack, 'Lake', {
      objectLock: { mode: ObjectLockMode.COMPLIANCE, retention: Duration.days(2555) },
      rawDataExpiration: Duration.days(3650),
      quarantineExpiration: Duration.days(365),
      accessLogsExpiration: Duration.days(2555),
      allowedVpcEndpoints: [endpoint],
      dataEventsTrail: { cloudWatchLogsRetention: Duration.days(2555) },
    });
    new SecureUploadApi(stack, 'Uploads', {
      lake,
      allowedOrigins: ['https://app.example.com'],
      allowedContentTypes: ['application/json', 'text/csv'],
      reservedConcurrency: 5,
      vpc,
    });
    const report = runSecurityChecks(app, { name: 'secure-data-lake-maximal' });
    keep(report);
    console.log(formatSecurityReport(report));
    expectNoUnacknowledgedFindings(report);
  });
});
