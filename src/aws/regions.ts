import { partition } from '@aws-sdk/core/client';
import { closest } from '../base/distance.js';

/**
 * Whether the SDK's partition data knows this region. The SDK answers every region with its
 * partition's endpoints, but adds the region's description only for regions it lists: that is
 * the test. A region newer than the installed SDK is unknown here, hence `--allow-unknown-region`.
 */
export const isKnownRegion = (region: string): boolean => 'description' in partition(region);

const PREFIXES = ['us', 'eu', 'ap', 'sa', 'ca', 'me', 'af', 'il', 'mx', 'cn', 'us-gov', 'us-iso', 'us-isob', 'eu-isoe', 'us-isof', 'eusc'];
const DIRECTIONS = ['east', 'west', 'north', 'south', 'central', 'northeast', 'northwest', 'southeast', 'southwest', 'de-east'];

let known: string[] | undefined;

/**
 * Every region the SDK lists. The partition data is not exported as a list, so the names are
 * generated from AWS's naming scheme (`<area>-<direction>-<n>`) and kept where the SDK knows
 * them; only computed when a region is refused, for the did-you-mean.
 */
export function knownRegions(): string[] {
  known ??= PREFIXES.flatMap((p) => DIRECTIONS.flatMap((d) => Array.from({ length: 9 }, (_, i) => `${p}-${d}-${i + 1}`))).filter(isKnownRegion);
  return known;
}

/** The listed region nearest to a mistyped one (`eu-wset-1` → `eu-west-1`), or undefined. */
export const suggestRegion = (region: string): string | undefined => closest(region, knownRegions());
