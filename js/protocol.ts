// Messages between the pool and its workers.
import type { ErrorCode } from './errors.js';

export type JobKind = 'optimize' | 'probe' | 'trap';

export interface JobRequest {
  id: number;
  kind: JobKind;
  input: Uint8Array | Blob;
  /** OptimizeOptions as JSON (parsed by the core, which refuses unknown names). */
  optionsJson: string;
}

export type JobReply =
  | { id: number; ok: true; value: unknown; memoryBytes: number }
  | { id: number; ok: false; code: ErrorCode; message: string; memoryBytes: number; fatal: boolean };
