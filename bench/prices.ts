/**
 * List prices the cost section (bench/cost.ts) multiplies by, in one table:
 * us-east-1, on-demand, no free tier, no savings plan or negotiated discount.
 *
 * Checked on PRICES_CHECKED_ON against the pages named in `source`, read
 * through the project's reference search (the official page or a page quoting
 * it). `confirmed: false` marks a figure that search could not show on an
 * official or quoting page: it is the last known list price, and the section
 * prints a note for each one. Update a figure here and every result follows.
 */
export const PRICES_CHECKED_ON = '2026-11-23';

export interface Price {
  /** US dollars per `unit`. */
  usd: number;
  unit: string;
  source: string;
  confirmed: boolean;
  note?: string;
}

const API_GATEWAY = 'https://aws.amazon.com/api-gateway/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const DYNAMODB = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';
const KMS = 'https://aws.amazon.com/kms/pricing/';
const XRAY = 'https://aws.amazon.com/xray/pricing/';
const DATADOG = 'https://www.datadoghq.com/pricing/?product=log-management';

export const PRICES = {
  apiGatewayRestRequest: {
    usd: 3.5 / 1e6,
    unit: 'REST API request (first 333 million a month)',
    source: API_GATEWAY,
    confirmed: true,
    note: 'Tiered: $2.80/M for the next 667 M requests a month. The authorizer cache is free (only the optional API cache is billed).',
  },
  lambdaRequest: { usd: 0.2 / 1e6, unit: 'invocation', source: LAMBDA, confirmed: true },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-second on arm64 (first 7.5 billion a month)',
    source: LAMBDA,
    confirmed: true,
    note: 'Billed per 1 ms; since August 2025 the INIT (cold start) phase of on-demand functions is billed too.',
  },
  dynamoWriteRequestUnit: {
    usd: 0.625 / 1e6,
    unit: 'on-demand write request unit (1 KB, standard; transactional writes take 2)',
    source: DYNAMODB,
    confirmed: true,
    note: 'Halved on 2024-11-01.',
  },
  dynamoReadRequestUnit: { usd: 0.125 / 1e6, unit: 'on-demand read request unit (4 KB strongly consistent, 2 eventually consistent reads)', source: DYNAMODB, confirmed: true },
  dynamoStorageGbMonth: { usd: 0.25, unit: 'GB-month, Standard table class (first 25 GB free, not counted here)', source: DYNAMODB, confirmed: true },
  dynamoPitrGbMonth: { usd: 0.2, unit: 'GB-month of table size, continuous backups (PITR)', source: DYNAMODB, confirmed: false },
  dynamoStreamsReadByLambda: {
    usd: 0,
    unit: 'GetRecords call by a Lambda trigger',
    source: DYNAMODB,
    confirmed: true,
    note: '"You are not charged for GetRecords API calls invoked by AWS Lambda as part of DynamoDB triggers."',
  },
  dynamoIncrementalExportGb: {
    usd: 0.1,
    unit: 'GB processed by an export to S3 (incremental: changed data)',
    source: DYNAMODB,
    confirmed: false,
  },
  s3StandardGbMonth: { usd: 0.023, unit: 'GB-month, S3 Standard (first 50 TB)', source: S3, confirmed: true },
  s3GlacierIrGbMonth: { usd: 0.004, unit: 'GB-month, S3 Glacier Instant Retrieval', source: S3, confirmed: false },
  s3PutRequest: { usd: 0.005 / 1000, unit: 'PUT/COPY/POST/LIST request, S3 Standard', source: S3, confirmed: true },
  s3GlacierIrTransition: { usd: 0.02 / 1000, unit: 'lifecycle transition request into Glacier Instant Retrieval', source: S3, confirmed: false },
  kmsAsymmetricRequest: {
    usd: 0.15 / 10_000,
    unit: 'asymmetric request (ECC Sign)',
    source: KMS,
    confirmed: false,
    note: 'Symmetric requests are $0.03 per 10,000; asymmetric ones are quoted at 5x that.',
  },
  cloudWatchLogsIngestGb: {
    usd: 0.5,
    unit: 'GB ingested, Standard log class (Lambda logs: first 10 TB a month, cheaper tiers above)',
    source: CLOUDWATCH,
    confirmed: true,
  },
  cloudWatchLogsStorageGbMonth: { usd: 0.03, unit: 'GB-month stored (archival)', source: CLOUDWATCH, confirmed: true },
  xrayTraceRecorded: { usd: 5 / 1e6, unit: 'trace recorded', source: XRAY, confirmed: false },
  datadogLogIngestGb: { usd: 0.1, unit: 'GB ingested (Log Management)', source: DATADOG, confirmed: true, note: 'Quoted by several pages citing the pricing page; not read on it directly.' },
  datadogIndexed15DaysPerEvent: {
    usd: 1.7 / 1e6,
    unit: 'log event indexed with 15-day retention (annual commitment)',
    source: DATADOG,
    confirmed: true,
    note: '$2.55 per million on demand (month to month); over-commitment usage is billed at a 50% premium.',
  },
  datadogIndexed15DaysOnDemandPerEvent: { usd: 2.55 / 1e6, unit: 'log event indexed with 15-day retention (on demand)', source: DATADOG, confirmed: true },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;
