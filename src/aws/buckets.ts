import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * HeadBucket answers with a status code only (no error body): 200 ours, 403 someone else's,
 * 404 free, 301 in another region. S3 can also answer a client of another region 400 with the
 * bucket's region in `x-amz-bucket-region` (aws-sdk-js-v3#7304); that is "another region" too
 * (reported as 301), and a 400 without the header is not. The SDK gives no `BucketRegion` on
 * the error: the header is only on the raw response it keeps as `$response` (its own region
 * redirect middleware reads it there too).
 */
export async function headBucket(s3: S3Client, Bucket: string, region: string): Promise<{ status: number; region?: string }> {
  try {
    const out = await s3.send(new HeadBucketCommand({ Bucket }));
    return { status: 200, region: out.BucketRegion };
  } catch (err) {
    const e = err as { $metadata?: { httpStatusCode?: number }; $response?: { headers?: Record<string, string | undefined> } };
    const status = e.$metadata?.httpStatusCode;
    const bucketRegion = e.$response?.headers?.['x-amz-bucket-region'];
    if (status === 404 || status === 403 || status === 301) return { status, region: bucketRegion };
    if (status === 400 && bucketRegion && bucketRegion !== region) return { status: 301, region: bucketRegion };
    throw err;
  }
}
