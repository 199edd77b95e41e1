import { Command, Option } from 'commander';
import { DEFAULT_JOBLOG_NAME, DEFAULTS } from '../options.js';
import { VERSION } from '../version.js';
import { count, header, keyedLimit, positiveInt, seconds, size } from './parse.js';
import { CONFLICT_POLICIES, INPUT_FORMATS, type ConflictPolicy, type InputFormat } from '../input/spec.js';
import { PROGRESS_MODES, type ProgressMode } from './reporting.js';

/** Options as commander hands them over. */
export interface CliOptions {
  workers: number;
  perHost: number;
  perSite: number;
  hostLimit?: Map<string, number>;
  siteLimit?: Map<string, number>;
  joblog?: string;
  destdir: string;
  status?: boolean;
  json?: boolean;
  failed?: boolean;
  retryFailed?: boolean;
  dryRun?: boolean;
  progress: ProgressMode;
  quiet?: boolean;
  header?: Record<string, string>;
  maxFilesize?: number;
  hash?: 'sha256';
  inputFormat?: InputFormat;
  onConflict: ConflictPolicy;
  cookies?: string;
  contentDisposition?: boolean;
  userAgent?: string;
  retries: number;
  batchRetries?: number;
  retryWait: number;
  retryMaxWait: number;
  maxRetryAfter: number;
  connectTimeout: number;
  headersTimeout: number;
  timeout: number;
  maxTime?: number;
}

const s = (ms: number): string => `${ms / 1000}`;

/** The command line: options and help only; behaviour lives in the library. */
export function buildProgram(): Command {
  return new Command()
    .name('dl')
    .description('Download many URLs at once, with a joblog that lets any run resume where it stopped.')
    .argument('[inputs...]', 'files with one URL per line; "-" reads standard input (also the default when stdin is a pipe)')
    .addOption(new Option('-j, --workers <n>', 'downloads at once, over all hosts').argParser(positiveInt).default(DEFAULTS.workers))
    .addOption(new Option('--per-host <n>', 'downloads at once per host (hostname:port)').argParser(positiveInt).default(DEFAULTS.perHost))
    .addOption(new Option('--per-site <n>', 'downloads at once per site (registrable domain)').argParser(positiveInt).default(DEFAULTS.perSite))
    .addOption(new Option('--host-limit <host=n>', 'limit for one host, as hostname or hostname:port (repeatable)').argParser(keyedLimit))
    .addOption(new Option('--site-limit <site=n>', 'limit for one site, such as example.co.uk (repeatable)').argParser(keyedLimit))
    .addOption(new Option('-l, --joblog <file>', `joblog to record and resume the run (default: <destdir>/${DEFAULT_JOBLOG_NAME})`))
    .addOption(new Option('-d, --destdir <dir>', 'folder to download into').default('.', 'the current folder'))
    .addOption(new Option('-H, --header <header>', 'send this header with every request, as "Name: value" (repeatable); Authorization and Cookie are not sent to another origin after a redirect').argParser(header))
    .addOption(new Option('--cookies <file>', 'send the cookies of a Netscape cookies.txt file (as browsers\' exporters, yt-dlp and gallery-dl write) with matching requests'))
    .addOption(new Option('--user-agent <text>', 'the User-Agent header').default(undefined, `dl/${VERSION}`))
    .addOption(new Option('--input-format <format>', 'format of the input files: plain, aria2 or jsonl (default: detected per file)').choices(INPUT_FORMATS))
    .addOption(new Option('--content-disposition', "name files after the server's Content-Disposition header when it gives a name (still made safe, still inside the destination folder)"))
    .addOption(new Option('--on-conflict <policy>', 'when a file this joblog did not write has a new job\'s name: rename (name.1.ext), skip (count it as done) or overwrite').choices(CONFLICT_POLICIES).default('rename'))
    .addOption(new Option('--hash <algorithm>', "record each finished file's digest in its done record, computed while it downloads").choices(['sha256']))
    .addOption(new Option('--max-filesize <size>', 'fail a file larger than this (500k, 20M, 2G), before or while it downloads (default: no limit)').argParser(size))
    .addOption(new Option('--retries <n>', 'retries after the first attempt, for transient failures').argParser(count).default(DEFAULTS.retries))
    .addOption(new Option('--batch-retries <n>', 'the same as --retries').argParser(count))
    .addOption(new Option('--retry-wait <s>', 'backoff base: retry n waits a random time up to base * 2^(n-1) seconds').argParser(seconds).default(DEFAULTS.retryWaitMs, s(DEFAULTS.retryWaitMs)))
    .addOption(new Option('--retry-max-wait <s>', 'longest backoff between two attempts, in seconds').argParser(seconds).default(DEFAULTS.retryMaxWaitMs, s(DEFAULTS.retryMaxWaitMs)))
    .addOption(new Option('--max-retry-after <s>', 'longest Retry-After (429, 503) to wait for; a longer one fails the job').argParser(seconds).default(DEFAULTS.maxRetryAfterMs, s(DEFAULTS.maxRetryAfterMs)))
    .addOption(new Option('--connect-timeout <s>', 'seconds to establish a connection').argParser(seconds).default(DEFAULTS.connectTimeoutMs, s(DEFAULTS.connectTimeoutMs)))
    .addOption(new Option('--headers-timeout <s>', 'seconds to wait for the response headers').argParser(seconds).default(DEFAULTS.headersTimeoutMs, s(DEFAULTS.headersTimeoutMs)))
    .addOption(new Option('--timeout <s>', 'idle timeout: seconds without a byte of the body').argParser(seconds).default(DEFAULTS.idleTimeoutMs, s(DEFAULTS.idleTimeoutMs)))
    .addOption(new Option('--max-time <s>', 'seconds one attempt may take in all (default: no limit)').argParser(seconds))
    .addOption(new Option('--dry-run', 'read the inputs into the joblog (names, seqs) and download nothing'))
    .addOption(new Option('--retry-failed', 'also retry jobs that failed for good in earlier runs'))
    .addOption(new Option('--progress <mode>', 'progress display: auto (bar on a terminal, plain lines otherwise), bar, plain or none').choices(PROGRESS_MODES).default('auto'))
    .addOption(new Option('-q, --quiet', 'print errors and nothing else'))
    .addOption(new Option('--json', 'print events as JSON lines on stdout (start, retry, done, fail, summary); with --status, one JSON object'))
    .addOption(new Option('--status', 'print where the run recorded in the joblog stands, and exit'))
    .addOption(new Option('--failed', 'with --status: print the URLs of failed jobs, one per line'))
    .version(VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit')
    .showHelpAfterError('(dl --help lists every option)')
    .exitOverride();
}
