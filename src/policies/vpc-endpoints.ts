/**
 * The VPC endpoints Session Manager needs in a private subnet (no internet or NAT route), as
 * pure data: which services, the security group's name and rule, one subnet per Availability
 * Zone, and what they cost. No AWS calls; the `vpc-endpoints` step and the CloudFormation
 * template both build from here.
 */

/** The interface endpoints ssm-setup may create, in the order the plan lists them. */
export const INTERFACE_SERVICES = ['ssm', 'ssmmessages', 'ec2messages', 'kms', 'logs'] as const;
export type EndpointServiceId = (typeof INTERFACE_SERVICES)[number];

/** The agent version from which Run Command goes through ssmmessages and ec2messages is no longer needed. */
export const EC2MESSAGES_NOT_NEEDED_FROM = '3.3.40.0';

/** What the sessions use, for the endpoints they need. */
export interface EndpointNeeds {
  /** KMS session encryption (ssm-setup always encrypts with its key). */
  readonly kms: boolean;
  /** CloudWatch Logs session logging (`--cloudwatch-logs`). */
  readonly logs: boolean;
  /** S3 session logging: the S3 gateway endpoint. */
  readonly s3: boolean;
  /** Some target's agent is older than 3.3.40.0, or its version is unknown. */
  readonly oldAgents: boolean;
}

/** The interface endpoints for these needs: ssm and ssmmessages always, ec2messages, kms and logs when needed. */
export function wantedServices(needs: EndpointNeeds): EndpointServiceId[] {
  return INTERFACE_SERVICES.filter(
    (s) => s === 'ssm' || s === 'ssmmessages' || (s === 'ec2messages' && needs.oldAgents) || (s === 'kms' && needs.kms) || (s === 'logs' && needs.logs),
  );
}

/** `com.amazonaws.<region>.<service>`. */
export const endpointServiceName = (region: string, service: string) => `com.amazonaws.${region}.${service}`;

/** The security group ssm-setup makes for its interface endpoints in a VPC. */
export const endpointGroupName = (vpcId: string) => `ssm-setup-endpoints-${vpcId}`;

/** Its one rule: TCP 443 in from each CIDR block of the VPC (the agent opens every connection outbound). */
export function endpointIngress(cidrs: readonly string[]) {
  return [
    {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      IpRanges: cidrs.map((CidrIp) => ({ CidrIp, Description: 'Session Manager agents in this VPC (ssm-setup)' })),
    },
  ];
}

/**
 * One subnet per Availability Zone in which targets run: in each zone, the targets' own subnet
 * holding most of them (ties: the lowest id). `subnets` are the targets' subnets with their
 * zone; a zone is listed once. Pure; the result is sorted by zone.
 */
export function subnetPerZone(subnets: readonly { readonly subnetId: string; readonly az: string; readonly targets: number }[]): Map<string, string> {
  const best = new Map<string, { subnetId: string; targets: number }>();
  for (const s of subnets) {
    const known = best.get(s.az);
    if (!known || s.targets > known.targets || (s.targets === known.targets && s.subnetId < known.subnetId)) best.set(s.az, s);
  }
  return new Map([...best].sort(([a], [b]) => a.localeCompare(b)).map(([az, s]) => [az, s.subnetId]));
}

/** Hours in a month, as AWS's pricing calculator counts them. */
export const HOURS_PER_MONTH = 730;

/**
 * Interface endpoint prices (USD) by region group: per endpoint per Availability Zone per hour,
 * and per GB processed (the first PB of a month). Source: https://aws.amazon.com/privatelink/pricing/
 * as of the date below (the per-GB tier and the us-east-1 hourly rate checked there; the other
 * regions' hourly rates to be rechecked when the table is next dated). A region not listed is
 * priced as us-east-1, and says so. The gateway endpoint for S3 is free.
 */
export const ENDPOINT_PRICES = {
  asOf: '2026-12-02',
  source: 'https://aws.amazon.com/privatelink/pricing/',
  groups: [
    { regions: ['us-east-1', 'us-east-2', 'us-west-2'], hourly: 0.01, perGb: 0.01 },
    { regions: ['us-west-1', 'eu-west-1'], hourly: 0.011, perGb: 0.01 },
    { regions: ['eu-central-1'], hourly: 0.012, perGb: 0.01 },
    { regions: ['ap-northeast-1'], hourly: 0.014, perGb: 0.01 },
  ],
} as const;

export interface EndpointPrice {
  readonly hourly: number;
  readonly perGb: number;
  /** `(price for us-east-1)` when the region has no row of its own. */
  readonly note?: string;
}

/** The price of one interface endpoint in one zone of this region. Pure. */
export function endpointPrice(region: string): EndpointPrice {
  const own = ENDPOINT_PRICES.groups.find((g) => (g.regions as readonly string[]).includes(region));
  if (own) return { hourly: own.hourly, perGb: own.perGb };
  const base = ENDPOINT_PRICES.groups[0];
  return { hourly: base.hourly, perGb: base.perGb, note: '(price for us-east-1)' };
}

/** What one interface endpoint in `zones` Availability Zones costs a month, before data. */
export const monthlyCost = (region: string, zones: number) => endpointPrice(region).hourly * HOURS_PER_MONTH * zones;

/** `$14.60/month`. */
export const dollars = (n: number) => `$${n.toFixed(2)}`;

/** The cost line of a planned interface endpoint: `$14.60/month (2 AZ × 730 h × $0.01) + $0.01/GB`. */
export function costLine(region: string, zones: number): string {
  const p = endpointPrice(region);
  const line = `${dollars(monthlyCost(region, zones))}/month (${zones} AZ × ${HOURS_PER_MONTH} h × $${p.hourly}) + $${p.perGb}/GB processed`;
  return p.note ? `${line} ${p.note}` : line;
}
