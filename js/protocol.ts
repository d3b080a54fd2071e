// Messages between the pool and its workers.
import type { ErrorCode } from './errors.js';

export type JobKind = 'optimize' | 'optimizeMany' | 'probe' | 'placeholder' | 'compare' | 'remux' | 'remuxPlan' | 'gifToVideo' | 'demux' | 'transcode' | 'posterFrame' | 'trap';

export interface JobRequest {
  id: number;
  kind: JobKind;
  input: Uint8Array | Blob;
  /** The distorted image, for `compare`. */
  second?: Uint8Array | Blob;
  /** A streaming job's output (transcode with `output`), transferred to the worker. */
  output?: WritableStream<Uint8Array>;
  /** OptimizeOptions as JSON (an array of them for optimizeMany), parsed by the core. */
  optionsJson: string;
}

/** Not a job: the pool gave up on running job `cancel` (every caller aborted); jobs that can
 * stop midway (video transcodes) stop, the rest finish and their answer is dropped. */
export interface CancelRequest {
  cancel: number;
}

export type WorkerMessage = JobRequest | CancelRequest;

export type JobReply =
  | { id: number; ok: true; value: unknown; memoryBytes: number }
  /** Not an answer: how far a long job (a video encode) has got. */
  | { id: number; progress: { done: number; total: number } }
  | { id: number; ok: false; code: ErrorCode; message: string; memoryBytes: number; fatal: boolean };
