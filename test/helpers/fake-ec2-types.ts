import type { Filter } from '@aws-sdk/client-ec2';

/** What fake-ec2.ts hands its parts (fake-ec2-endpoints.ts, fake-ec2-network.ts): one way to answer, page and filter. */
export type Answer = <I extends object>(command: { name: string }, fn: (input: I) => unknown) => (input: I) => Promise<unknown>;
export type Page = <T>(
  op: string,
  items: readonly T[],
  input: { MaxResults?: number; NextToken?: string },
  range?: { min: number; max: number },
  ids?: boolean,
) => { items: T[]; NextToken?: string };
export type Filtered = <T>(
  items: readonly T[],
  filters: readonly Filter[] | undefined,
  fields: Readonly<Record<string, (item: T) => readonly (string | undefined)[]>>,
  tags?: (item: T) => Record<string, string>,
) => T[];
