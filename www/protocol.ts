// Messages between the page and its optimizer workers.
import type { OptimizeOptions, OptimizeResult, ProbeInfo } from 'mediaslim';

export interface WorkerRequest {
  id: number;
  file: Blob;
  options: OptimizeOptions;
}

export type WorkerReply =
  | { id: number; ok: true; result: OptimizeResult; probe: ProbeInfo | null; wallMs: number }
  | { id: number; ok: false; code: string; message: string; probe: ProbeInfo | null };
