import type { Validator } from '../http/validator.js';
import type { JobRecord } from '../joblog/records.js';
import { hostKeyOf, siteKeyOf } from './host-key.js';

/** A job the engine is about to run or is running: its record plus what scheduling needs. */
export interface ActiveJob {
  record: JobRecord;
  /** Byte offset of the job's line in the joblog: how a parked job is read back. */
  offset: number;
  url: URL;
  host: string;
  site: string;
  /** Version of the `.part` file an earlier run left, when it can be resumed. */
  resume?: Validator;
  /** The name a Content-Disposition gave, and the file name claimed for it: kept for retries. */
  claimed?: { given: string; out: string };
}

export function activeJob(record: JobRecord, offset: number, url = new URL(record.url), resume?: Validator): ActiveJob {
  const job: ActiveJob = { record, offset, url, host: hostKeyOf(url), site: siteKeyOf(url.hostname) };
  if (resume) job.resume = resume;
  return job;
}
