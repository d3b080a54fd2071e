// The worker pool: one wasm instance per worker, jobs in priority order, identical jobs run
// once, every job cancellable, a crashed worker replaced while the rest keep serving.
// No SharedArrayBuffer is used, so pages need no COOP/COEP headers.
import { abortError, MediaslimError } from './errors.js';
import type { JobKind, JobReply, WorkerMessage } from './protocol.js';
import { PriorityQueue, rank, type Priority } from './queue.js';

export type { Priority } from './queue.js';

export interface RunOptions {
  /** Default `background`; `user` for a click, `visible` for what is on screen. */
  priority?: Priority;
  /** Aborting rejects with ABORTED: at once when queued; a running job's result is dropped. */
  signal?: AbortSignal;
  /** Jobs sharing a key never run at the same time (one asset variant, say). */
  key?: string;
  /** Called as the job moves through `queued`, `running`, then `done` or `failed`. */
  onProgress?: (event: ProgressEvent) => void;
}

export interface ProgressEvent {
  stage: 'queued' | 'running' | 'done' | 'failed';
  /** Jobs ahead of this one when it was queued. */
  queuedBehind?: number;
  /** While `running`, for jobs that report steps (video frames): steps done of `total`. */
  done?: number;
  total?: number;
}

export interface PoolStats {
  workers: number;
  queued: number;
  running: number;
  done: number;
  failed: number;
  aborted: number;
  /** Jobs answered by sharing an identical job's result instead of running. */
  deduplicated: number;
  /** Workers replaced after a crash. */
  replaced: number;
  bytesIn: number;
  bytesOut: number;
  bytesSaved: number;
  /** Largest wasm memory reported by any live worker. */
  wasmMemoryBytes: number;
}

interface Subscriber {
  resolve(value: unknown): void;
  reject(err: unknown): void;
  onProgress?: (event: ProgressEvent) => void;
  cleanup(): void;
}

interface Job {
  id: number;
  kind: JobKind;
  input: Uint8Array | Blob;
  second?: Uint8Array | Blob;
  /** Where a streaming job writes (a transcode's `output`): transferred to its worker. */
  output?: WritableStream<Uint8Array>;
  optionsJson: string;
  priority: Priority;
  key?: string;
  dedupKey?: string;
  subscribers: Set<Subscriber>;
  worker?: Slot;
}

/** The part of a Web Worker / Node Worker the pool uses. */
interface WorkerHandle {
  post(req: WorkerMessage, transfer: Transferable[]): void;
  terminate(): void;
  /** Node only: idle workers must not keep the process alive. */
  ref?(): void;
  unref?(): void;
}

interface Slot {
  handle: WorkerHandle;
  job?: Job;
  memoryBytes: number;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

let nodeCores: number | undefined;

/** One worker per core: `os.availableParallelism()` in Node, `hardwareConcurrency` elsewhere. */
function defaultSize(): number {
  const cores = nodeCores ?? (typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 0);
  return Math.max(1, cores || 1);
}

export class Pool {
  private readonly requestedSize: number | undefined;
  private readonly queue = new PriorityQueue<Job>();
  private readonly slots: Slot[] = [];
  private readonly inflight = new Map<string, Job>();
  private readonly runningKeys = new Set<string>();
  private nextId = 1;
  private closed = false;
  /** Enqueues happen in submission order even though hashing inputs is asynchronous. */
  private intake: Promise<unknown> = Promise.resolve();
  private readonly counters = { done: 0, failed: 0, aborted: 0, deduplicated: 0, replaced: 0, bytesIn: 0, bytesOut: 0, bytesSaved: 0 };

  constructor(
    options: {
      /** Workers to run at most, a whole number from 1. Default: one per core. */
      size?: number;
    } = {},
  ) {
    const size = options.size;
    if (size !== undefined && (!Number.isInteger(size) || size < 1)) {
      throw new MediaslimError('INVALID_OPTION', `invalid option \`size\`: must be a whole number of workers from 1, got ${String(size)}`);
    }
    this.requestedSize = size;
  }

  /** Workers this pool runs at most (default: one per core). */
  get size(): number {
    return this.requestedSize ?? defaultSize();
  }

  /** Queues a job; resolves with the core's answer. */
  run(kind: JobKind, input: Uint8Array | Blob, optionsJson: string, opts: RunOptions = {}, second?: Uint8Array | Blob, output?: WritableStream<Uint8Array>): Promise<unknown> {
    if (this.closed) return Promise.reject(new MediaslimError('ABORTED', 'the pool was terminated'));
    const priority = opts.priority ?? 'background';
    rank(priority); // throws on an unknown priority
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    const ticket: Ticket = { priority };
    // Jobs on two inputs are not deduplicated (the key covers one input).
    const keyed = this.intake.then(() => loadNodeWorkers()).then(() => (second || output ? undefined : this.dedupKey(kind, input, optionsJson)));
    this.intake = keyed.catch(() => undefined);
    const promise = keyed.then((dedupKey) => this.enqueue(kind, input, optionsJson, ticket, opts, dedupKey, second, output));
    tickets.set(promise, ticket);
    return promise;
  }

  /** Raises a waiting job's priority (an image scrolled into view). False once it runs. */
  raise(promise: Promise<unknown>, to: Priority): boolean {
    const ticket = tickets.get(promise);
    if (!ticket || rank(to) >= rank(ticket.priority)) return false;
    if (!ticket.job) {
      ticket.priority = to; // not queued yet: it will enter at the raised priority
      return true;
    }
    return !ticket.job.worker && this.queue.raise(ticket.job, to) && ((ticket.priority = to), true);
  }

  stats(): PoolStats {
    const running = this.slots.filter((s) => s.job).length;
    return {
      workers: this.slots.length,
      queued: this.queue.size,
      running,
      ...this.counters,
      wasmMemoryBytes: Math.max(0, ...this.slots.map((s) => s.memoryBytes)),
    };
  }

  /** Stops every worker; queued and running jobs reject with ABORTED. */
  terminate(): void {
    this.closed = true;
    let job: Job | undefined;
    while ((job = this.queue.take())) this.settle(job, new MediaslimError('ABORTED', 'the pool was terminated'));
    for (const slot of this.slots.splice(0)) {
      if (slot.job) this.settle(slot.job, new MediaslimError('ABORTED', 'the pool was terminated'));
      slot.handle.terminate();
    }
  }

  /** Test hook: traps the wasm instance of the worker that takes this job. */
  __trapForTests(opts: RunOptions = {}): Promise<unknown> {
    const ticket: Ticket = { priority: opts.priority ?? 'user' };
    const done = this.intake.then(() => loadNodeWorkers()).then(() => this.enqueue('trap', new Uint8Array(0), '{}', ticket, opts, undefined));
    this.intake = done.catch(() => undefined);
    return done;
  }

  // ---- internals -----------------------------------------------------------------------

  private async dedupKey(kind: JobKind, input: Uint8Array | Blob, optionsJson: string): Promise<string | undefined> {
    // Video inputs are large and read by range: hashing one whole costs more than it saves.
    if (kind === 'demux' || kind === 'transcode' || kind === 'posterFrame') return undefined;
    const subtle = globalThis.crypto?.subtle;
    if (!subtle) return undefined; // insecure browser contexts: no dedup, still correct
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(await input.arrayBuffer());
    const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
    return `${kind}:${Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')}:${optionsJson}`;
  }

  private enqueue(
    kind: JobKind, input: Uint8Array | Blob, optionsJson: string, ticket: Ticket, opts: RunOptions, dedupKey: string | undefined, second?: Uint8Array | Blob,
    output?: WritableStream<Uint8Array>,
  ): Promise<unknown> {
    if (this.closed) return Promise.reject(new MediaslimError('ABORTED', 'the pool was terminated'));
    if (opts.signal?.aborted) return Promise.reject(abortError(opts.signal));
    const priority = ticket.priority;
    let job = dedupKey ? this.inflight.get(dedupKey) : undefined;
    const shared = !!job;
    if (!job) {
      job = { id: this.nextId++, kind, input, second, output, optionsJson, priority, key: opts.key, dedupKey, subscribers: new Set() };
      if (dedupKey) this.inflight.set(dedupKey, job);
      this.queue.push(job);
    } else {
      this.counters.deduplicated += 1;
      if (!job.worker) this.queue.raise(job, priority);
    }
    const theJob = job;
    ticket.job = job;
    const promise = new Promise<unknown>((resolve, reject) => {
      const onAbort = () => this.unsubscribe(theJob, sub, abortError(opts.signal!));
      const sub: Subscriber = {
        resolve,
        reject,
        onProgress: opts.onProgress,
        cleanup: () => opts.signal?.removeEventListener('abort', onAbort),
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      theJob.subscribers.add(sub);
      sub.onProgress?.({ stage: theJob.worker ? 'running' : 'queued', queuedBehind: shared ? undefined : this.queue.size - 1 });
    });
    this.pump();
    return promise;
  }

  /** One caller gave up; the job itself stops only when nobody is waiting for it. */
  private unsubscribe(job: Job, sub: Subscriber, err: MediaslimError): void {
    if (!job.subscribers.delete(sub)) return;
    sub.cleanup();
    sub.reject(err);
    this.counters.aborted += 1;
    if (job.subscribers.size > 0) return;
    if (job.dedupKey) this.inflight.delete(job.dedupKey);
    // Queued: dropped now. Running: the worker is told; a video transcode stops at its next
    // frame, other jobs (one wasm call that cannot be interrupted) finish and are discarded.
    if (job.worker) job.worker.handle.post({ cancel: job.id }, []);
    else this.queue.remove(job);
  }

  private pump(): void {
    for (;;) {
      if (this.closed) return;
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.size && this.queue.size > 0) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.take((j) => !j.key || !this.runningKeys.has(j.key));
      if (!job) return;
      this.start(slot, job);
    }
  }

  private start(slot: Slot, job: Job): void {
    slot.job = job;
    job.worker = slot;
    if (job.key) this.runningKeys.add(job.key);
    slot.handle.ref?.();
    for (const sub of job.subscribers) sub.onProgress?.({ stage: 'running' });
    // Inputs are copied (structured clone), never transferred: the caller keeps its buffer. An
    // output stream moves to the worker (it writes there; a retry elsewhere cannot have it).
    const { output } = job;
    job.output = undefined;
    slot.handle.post({ id: job.id, kind: job.kind, input: job.input, second: job.second, optionsJson: job.optionsJson, ...(output ? { output } : {}) }, output ? [output] : []);
  }

  private spawn(): Slot {
    const slot: Slot = { handle: undefined as unknown as WorkerHandle, memoryBytes: 0 };
    slot.handle = createWorker(
      (reply) => this.onReply(slot, reply),
      (why) => this.onCrash(slot, why),
    );
    this.slots.push(slot);
    return slot;
  }

  private onReply(slot: Slot, reply: JobReply): void {
    const job = slot.job;
    if ('progress' in reply) {
      if (job && job.id === reply.id) for (const sub of job.subscribers) sub.onProgress?.({ stage: 'running', ...reply.progress });
      return;
    }
    slot.memoryBytes = reply.memoryBytes;
    if (!job || job.id !== reply.id) return;
    this.finish(slot, job);
    if (reply.ok) {
      const value = reply.value as { bytes?: Uint8Array; originalBytes?: number };
      if (job.kind === 'optimize' && value.bytes && typeof value.originalBytes === 'number') {
        this.counters.bytesIn += value.originalBytes;
        this.counters.bytesOut += value.bytes.length;
        this.counters.bytesSaved += value.originalBytes - value.bytes.length;
      }
      this.counters.done += 1;
      this.settle(job, undefined, value);
    } else {
      this.counters.failed += 1;
      this.settle(job, new MediaslimError(reply.code, reply.message));
      if (reply.fatal) this.replace(slot);
    }
    this.pump();
  }

  private onCrash(slot: Slot, why: string): void {
    const job = slot.job;
    if (job) {
      this.finish(slot, job);
      this.counters.failed += 1;
      this.settle(job, new MediaslimError('WORKER_CRASHED', `the worker died (${why}); it was replaced and only this job failed`));
    }
    this.replace(slot);
    this.pump();
  }

  private finish(slot: Slot, job: Job): void {
    slot.job = undefined;
    slot.handle.unref?.(); // an idle pool never keeps a Node process alive
    job.worker = undefined;
    if (job.key) this.runningKeys.delete(job.key);
    if (job.dedupKey && this.inflight.get(job.dedupKey) === job) this.inflight.delete(job.dedupKey);
  }

  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    slot.handle.terminate();
    this.counters.replaced += 1;
  }

  private settle(job: Job, err: MediaslimError | undefined, value?: unknown): void {
    for (const sub of job.subscribers) {
      sub.cleanup();
      sub.onProgress?.({ stage: err ? 'failed' : 'done' });
      if (err) sub.reject(err);
      else sub.resolve(value);
    }
    job.subscribers.clear();
  }
}

/** What `raise` needs to find a job from the promise `run` returned. */
interface Ticket {
  priority: Priority;
  job?: Job;
}

const tickets = new WeakMap<Promise<unknown>, Ticket>();

function createWorker(onReply: (r: JobReply) => void, onCrash: (why: string) => void): WorkerHandle {
  if (!isNode) {
    // The literal `new Worker(new URL(...), { type: 'module' })` form is what bundlers detect.
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<JobReply>) => onReply(e.data);
    worker.onerror = (e: ErrorEvent) => { e.preventDefault(); onCrash(e.message || 'worker error'); };
    return { post: (req, transfer) => worker.postMessage(req, transfer), terminate: () => worker.terminate() };
  }
  return nodeWorker(onReply, onCrash);
}

type NodeWorker = import('node:worker_threads').Worker;
let NodeWorkerClass: (new (url: URL, options?: { execArgv?: string[] }) => NodeWorker) | undefined;

/** Node's worker and os modules, loaded once before the first job (computed specifiers keep
 * browser bundlers from resolving them). */
async function loadNodeWorkers(): Promise<void> {
  if (!isNode || NodeWorkerClass) return;
  const threads = 'node:worker_threads';
  const os = 'node:os';
  NodeWorkerClass = ((await import(/* @vite-ignore */ /* webpackIgnore: true */ threads)) as typeof import('node:worker_threads')).Worker;
  nodeCores = ((await import(/* @vite-ignore */ /* webpackIgnore: true */ os)) as typeof import('node:os')).availableParallelism();
}

function nodeWorker(onReply: (r: JobReply) => void, onCrash: (why: string) => void): WorkerHandle {
  if (!NodeWorkerClass) throw new Error('loadNodeWorkers() must run before a Node worker starts');
  // Built by concatenation: a literal `new URL('./worker.js', import.meta.url)` here would make
  // browser bundlers emit (or inline as a data: URL) a second, unbundled copy of the worker.
  // webpack folds the concatenation back into that literal, hence its ignore comment.
  // Workers inherit execArgv, and Node refuses some flags in a worker (`--input-type`, as in
  // `node --input-type=module -e ...`): leave those out.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const worker = new NodeWorkerClass(new URL(/* webpackIgnore: true */ './' + 'worker.js', import.meta.url), { execArgv });
  let terminating = false;
  worker.on('message', onReply);
  worker.on('error', (err: Error) => onCrash(err.message));
  worker.on('exit', (code: number) => { if (!terminating) onCrash(`exit code ${code}`); });
  worker.unref();
  return {
    post: (req, transfer) => worker.postMessage(req, transfer as never),
    terminate: () => { terminating = true; void worker.terminate(); },
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
}
