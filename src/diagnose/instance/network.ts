import type { VpcEndpoint } from '@aws-sdk/client-ec2';
import type { TargetInstance } from '../../core/step.js';
import { CHECKS, type Checked, type DiagnoseContext, type EndpointService, type FeatureEndpointService, interfaceServices, REQUIRED } from '../context.js';
import { error, type Finding, ok, warn } from '../finding.js';
import { endpointFor, isAvailable, serviceNames } from '../net.js';
import { type Denied, isDenied, missing, type Reads, type RouteInfo } from '../reads.js';

const FEATURE_NEED: Readonly<Record<FeatureEndpointService, string>> = {
  kms: 'KMS session encryption needs it',
  logs: 'CloudWatch Logs session logging needs it',
  s3: 'S3 session logging needs it',
};

/**
 * The way from the instance to Systems Manager: the subnet's route out (an internet or NAT
 * gateway; an internet gateway only with a public IP), else the VPC's interface endpoints, plus
 * those the preferences need (kms, logs, the S3 gateway). One row: the route first, then one
 * finding per endpoint. Pure, over the reads.
 */
export function checkNetwork(t: TargetInstance, reads: Pick<Reads, 'routes' | 'endpoints'>, ctx: DiagnoseContext): Checked {
  if (!t.subnetId || !t.vpcId) return { findings: [warn(CHECKS.route, 'no VPC subnet known for this instance')] };
  const region = `--region ${ctx.region}`;
  const read = isDenied(reads.routes) ? reads.routes : reads.routes.get(t.subnetId);
  const route = read && !isDenied(read) ? read : undefined;
  const where = route ? `${route.tableId}${route.main ? ` (main table of ${t.vpcId})` : ''}` : '';
  // An internet gateway carries only instances with a public IP. Judged on running instances whose
  // addresses are known (a private IP): a stopped instance has no public IP until it starts.
  const noPublicIp = route?.via === 'igw' && t.state === 'running' && !!t.privateIp && !t.publicIp;
  const internet = route?.egress === 'internet' && !noPublicIp ? route.target : undefined;
  const noEgress = route?.egress === 'none' || noPublicIp;

  // The endpoints matter only where the subnet has no route out; they are listed either way.
  const findings: Finding[] = [];
  const missingRequired: EndpointService[] = [];
  const endpointFixes: string[] = [];
  let requiredUsable = false;
  if (isDenied(reads.endpoints)) {
    findings.push(warn(CHECKS.endpoints, missing(`the VPC endpoints of ${t.vpcId}`, reads.endpoints)));
  } else {
    const inVpc = reads.endpoints.get(t.vpcId) ?? [];
    requiredUsable = [...REQUIRED].every((s) => endpointFor(inVpc, ctx.region, s).usable);
    for (const service of interfaceServices(ctx)) {
      const check = CHECKS.endpoint(service);
      const { endpoint, usable, pending } = endpointFor(inVpc, ctx.region, service);
      const id = endpoint?.VpcEndpointId;
      if (usable) {
        findings.push(ok(check, `${id} available, private DNS on`));
        continue;
      }
      const dnsOff = !!endpoint && !pending && isAvailable(endpoint);
      const problem = !endpoint ? 'no interface endpoint' : dnsOff ? `${id} has private DNS off` : `${id} is ${endpoint.State}`;
      if (internet) {
        findings.push(ok(check, `${problem} (not needed: via the internet route to ${internet})`));
        continue;
      }
      const fix = dnsOff
        ? `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${id} --private-dns-enabled ${region}`
        : pending
          ? `wait until ${id} is available: aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${id} ${region}`
          : `aws ec2 create-vpc-endpoint --vpc-id ${t.vpcId} --vpc-endpoint-type Interface --service-name com.amazonaws.${ctx.region}.${service} --subnet-ids ${t.subnetId} --security-group-ids <group admitting TCP 443 from the instance> --private-dns-enabled ${region}`;
      const feature = service === 'kms' || service === 'logs';
      // With no route out, a missing ssm/ssmmessages endpoint is the cause, and a missing kms/logs
      // one breaks the sessions that use them; with an unknown route, a suspicion only.
      const status = noEgress && (REQUIRED.has(service as EndpointService) || feature) && !pending ? 'error' : 'warning';
      const why = service === 'ec2messages' ? ' (agents older than 3.3.40.0 need it)' : feature ? ` (${FEATURE_NEED[service]})` : '';
      findings.push(status === 'error' ? error(check, `${problem}${why}`, fix) : warn(check, `${problem}${why}`, fix));
      if (status === 'error' && !feature) {
        missingRequired.push(service as EndpointService);
        endpointFixes.push(fix);
      }
    }
    if (ctx.needs?.s3) findings.push(checkS3Gateway(t, inVpc, route, internet, noEgress, ctx));
  }

  // The route, first in the row.
  const check = CHECKS.route;
  if (!route) {
    const detail = read ? missing(`the route table of ${t.subnetId}`, read as Denied) : `no route table found for ${t.subnetId}`;
    return { findings: [warn(check, detail), ...findings] };
  }
  if (internet) return { findings: [ok(check, `${where} sends 0.0.0.0/0 to ${internet}`), ...findings] };
  if (route.egress === 'other') {
    const detail = `${where} sends 0.0.0.0/0 to ${route.target}: it reaches Systems Manager only if that path has a NAT or the endpoints`;
    return { findings: [requiredUsable ? ok(check, detail) : warn(check, detail), ...findings] };
  }
  const noWayOut = noPublicIp
    ? `${where} sends 0.0.0.0/0 to the internet gateway ${route.target}, but the instance has no public IP (public subnet route but no public IP)`
    : `${where} has no 0.0.0.0/0 route to an internet or NAT gateway (private subnet)`;
  if (requiredUsable) return { findings: [ok(check, `${noWayOut}: the VPC endpoints are used`), ...findings] };
  if (!missingRequired.length) {
    const detail = `${noWayOut}, and the ssm and ssmmessages endpoints are not all usable yet or could not be read`;
    return { findings: [warn(check, detail), ...findings] };
  }
  const noEndpoint = `VPC ${t.vpcId} has no usable ${missingRequired.join(' or ')} interface endpoint`;
  if (noPublicIp) {
    const eip = `aws ec2 associate-address --instance-id ${t.id} --allocation-id <eipalloc-id> ${region}`;
    return {
      findings: [error(check, noWayOut, eip), ...findings],
      cause: {
        text: `public subnet route but no public IP: subnet ${t.subnetId} routes to ${route.target}, which carries only instances with a public IP, and ${noEndpoint}`,
        fix: [
          `associate an Elastic IP: aws ec2 allocate-address --domain vpc ${region}, then ${eip}`,
          `or use a NAT gateway: give subnet ${t.subnetId} a route table whose 0.0.0.0/0 goes to a NAT gateway (aws ec2 associate-route-table --subnet-id ${t.subnetId} --route-table-id <table-with-nat-route> ${region}), or move the instance to such a subnet`,
          ...endpointFixes.map((f, i) => (i ? f : `or add the endpoints: ${f}`)),
        ],
      },
    };
  }
  const fix = `aws ec2 create-route --route-table-id ${route.tableId} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-gateway-id> ${region}`;
  return {
    findings: [error(check, noWayOut, fix), ...findings],
    cause: {
      text: `no route to the SSM endpoints: subnet ${t.subnetId} has no internet or NAT route and ${noEndpoint}`,
      fix: [...endpointFixes, `or give the subnet a route through a NAT gateway: ${fix}`],
    },
  };
}

/** S3 logging without a route out: a gateway endpoint for S3 on the subnet's route table. */
function checkS3Gateway(
  t: TargetInstance,
  inVpc: readonly VpcEndpoint[],
  route: RouteInfo | undefined,
  internet: string | undefined,
  noEgress: boolean,
  ctx: DiagnoseContext,
): Finding {
  const check = CHECKS.endpoint('s3');
  const region = `--region ${ctx.region}`;
  const names = new Set(serviceNames(ctx.region, 's3'));
  const gateways = inVpc.filter((e) => !!e.ServiceName && names.has(e.ServiceName) && (e.VpcEndpointType ?? '').toLowerCase() === 'gateway');
  const table = route?.tableId;
  const onTable = (e: VpcEndpoint) => !!table && (e.RouteTableIds ?? []).includes(table);
  const good = gateways.find((e) => isAvailable(e) && onTable(e));
  if (good) return ok(check, `${good.VpcEndpointId} (gateway) available, on route table ${table}`);
  const pending = gateways.find((e) => /^pending/i.test(e.State ?? '') && (onTable(e) || !table));
  const elsewhere = gateways.find(isAvailable);
  const tables = (e: VpcEndpoint) => (e.RouteTableIds?.length ? `it is on ${e.RouteTableIds.join(', ')}` : 'it is on no route table');
  const problem = pending
    ? `${pending.VpcEndpointId} (gateway) is ${pending.State}`
    : elsewhere
      ? table
        ? `${elsewhere.VpcEndpointId} (gateway) is not on route table ${table}: ${tables(elsewhere)}`
        : `${elsewhere.VpcEndpointId} (gateway) exists, but the route table of ${t.subnetId} is unknown`
      : gateways[0]
        ? `${gateways[0].VpcEndpointId} (gateway) is ${gateways[0].State}`
        : 'no S3 gateway endpoint';
  if (internet) return ok(check, `${problem} (not needed: via the internet route to ${internet})`);
  const tableArg = table ?? '<route-table-id>';
  const fix = pending
    ? `wait until ${pending.VpcEndpointId} is available: aws ec2 describe-vpc-endpoints --vpc-endpoint-ids ${pending.VpcEndpointId} ${region}`
    : elsewhere
      ? `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${elsewhere.VpcEndpointId} --add-route-table-ids ${tableArg} ${region}`
      : `aws ec2 create-vpc-endpoint --vpc-id ${t.vpcId} --vpc-endpoint-type Gateway --service-name com.amazonaws.${ctx.region}.s3 --route-table-ids ${tableArg} ${region}`;
  const detail = `${problem} (${FEATURE_NEED.s3})`;
  return noEgress && !pending ? error(check, detail, fix) : warn(check, detail, fix);
}
