import { tagList } from '../tags.js';
import { endpointIngress, INTERFACE_SERVICES } from '../vpc-endpoints.js';
import { COND, ref } from './names.js';

/**
 * The optional VPC-endpoints section of the template (the `vpc-endpoints` step): off unless
 * EndpointVpcId is given. Parameterised by the VPC, its CIDR, the subnets (one per Availability
 * Zone) and the route tables of the private subnets; the same services, group rule and private
 * DNS as the step.
 */
export const EP = {
  vpcId: 'EndpointVpcId',
  vpcCidr: 'EndpointVpcCidr',
  subnetIds: 'EndpointSubnetIds',
  routeTableIds: 'EndpointRouteTableIds',
  ec2messages: 'EndpointEc2Messages',
  create: 'CreateVpcEndpoints',
  gateway: 'CreateS3GatewayEndpoint',
  withEc2messages: 'CreateEc2MessagesEndpoint',
  withLogs: 'CreateLogsEndpoint',
  group: 'EndpointSecurityGroup',
} as const;

const equals = (a: unknown, b: unknown) => ({ 'Fn::Equals': [a, b] });
const not = (c: unknown) => ({ 'Fn::Not': [c] });
/** Created with the endpoints, and only when `also` holds too. */
const andCreate = (also: unknown) => ({ 'Fn::And': [{ Condition: EP.create }, also] });

export const ENDPOINT_PARAMETERS: Record<string, Record<string, unknown>> = {
  [EP.vpcId]: {
    Type: 'String',
    Default: '',
    Description: 'VPC of instances in private subnets; empty: no VPC endpoints (--vpc-endpoints)',
    AllowedPattern: '^$|^vpc-[0-9a-f]+$',
  },
  [EP.vpcCidr]: {
    Type: 'String',
    Default: '10.0.0.0/8',
    Description: "the VPC's CIDR block: the endpoints admit TCP 443 from it (used only with EndpointVpcId)",
    AllowedPattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$',
  },
  [EP.subnetIds]: { Type: 'CommaDelimitedList', Default: '', Description: 'one subnet per Availability Zone in which the instances run' },
  [EP.routeTableIds]: { Type: 'CommaDelimitedList', Default: '', Description: 'route tables of the private subnets, for the S3 gateway endpoint; empty: none' },
  [EP.ec2messages]: {
    Type: 'String',
    Default: 'true',
    AllowedValues: ['true', 'false'],
    Description: 'also the ec2messages endpoint (agents older than 3.3.40.0)',
  },
};

export const ENDPOINT_CONDITIONS: Record<string, unknown> = {
  [EP.create]: not(equals(ref(EP.vpcId), '')),
  [EP.gateway]: andCreate(not(equals({ 'Fn::Join': ['', ref(EP.routeTableIds)] }, ''))),
  [EP.withEc2messages]: andCreate(equals(ref(EP.ec2messages), 'true')),
  [EP.withLogs]: andCreate({ Condition: COND.cloudWatchLogs }),
};

export const ENDPOINT_PARAMETER_GROUP = {
  Label: { default: 'VPC endpoints for private subnets (optional)' },
  Parameters: [EP.vpcId, EP.vpcCidr, EP.subnetIds, EP.routeTableIds, EP.ec2messages],
};

const resourceName = (service: string) => `${service.charAt(0).toUpperCase()}${service.slice(1)}Endpoint`;

/** The security group, the interface endpoints (kms always: ssm-setup encrypts with its key) and the S3 gateway. */
export function endpointResources(tags: Readonly<Record<string, string>>): Record<string, unknown> {
  const condition = (service: string) => (service === 'ec2messages' ? EP.withEc2messages : service === 'logs' ? EP.withLogs : EP.create);
  const interfaces = Object.fromEntries(
    INTERFACE_SERVICES.map((service) => [
      resourceName(service),
      {
        Type: 'AWS::EC2::VPCEndpoint',
        Condition: condition(service),
        Properties: {
          VpcEndpointType: 'Interface',
          ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
          VpcId: ref(EP.vpcId),
          SubnetIds: ref(EP.subnetIds),
          SecurityGroupIds: [ref(EP.group)],
          PrivateDnsEnabled: true,
        },
      },
    ]),
  );
  const [rule] = endpointIngress(['CIDR']);
  return {
    [EP.group]: {
      Type: 'AWS::EC2::SecurityGroup',
      Condition: EP.create,
      Properties: {
        GroupName: { 'Fn::Sub': `ssm-setup-endpoints-\${${EP.vpcId}}` },
        GroupDescription: 'TCP 443 to the Session Manager VPC endpoints (ssm-setup)',
        VpcId: ref(EP.vpcId),
        SecurityGroupIngress: [
          {
            IpProtocol: rule!.IpProtocol,
            FromPort: rule!.FromPort,
            ToPort: rule!.ToPort,
            CidrIp: ref(EP.vpcCidr),
            Description: rule!.IpRanges[0]!.Description,
          },
        ],
        Tags: tagList(tags),
      },
    },
    ...interfaces,
    S3GatewayEndpoint: {
      Type: 'AWS::EC2::VPCEndpoint',
      Condition: EP.gateway,
      Properties: {
        VpcEndpointType: 'Gateway',
        ServiceName: { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.s3' },
        VpcId: ref(EP.vpcId),
        RouteTableIds: ref(EP.routeTableIds),
      },
    },
  };
}
