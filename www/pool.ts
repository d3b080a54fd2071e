// A small pool of optimizer workers: jobs queue up and each idle worker takes the next one.
// A worker that dies (out of memory, a crash in the wasm) fails only its own job, with code
// WORKER_CRASHED, and is replaced by a fresh one.
import type { OptimizeOptions, OptimizeResult, ProbeInfo } from 'mediaslim';
import type { WorkerReply, WorkerRequest } from './protocol.ts';

export interface Outcome {
  result: OptimizeResult;
  probe: ProbeInfo | null;
  wallMs: number;
}

export class OptimizeFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly probe: ProbeInfo | null = null,
  ) {
    super(message);
    this.name = 'OptimizeFailure';
  }
}

interface Job {
  request: WorkerRequest;
  onStart?: () => void;
  resolve(outcome: Outcome): void;
  reject(err: OptimizeFailure): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

function spawn(): Worker {
  return new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'mediaslim' });
}

export class OptimizerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;

  constructor(private readonly size: number) {}

  /** Optimizes `file` on the next free worker; `onStart` runs when a worker takes it. */
  run(file: Blob, options: OptimizeOptions, onStart?: () => void): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, file, options }, onStart, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) {
        slot = this.attach({ worker: spawn(), job: null });
        this.slots.push(slot);
      }
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.postMessage(job.request);
      job.onStart?.();
    }
  }

  private attach(slot: Slot): Slot {
    slot.worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const job = slot.job;
      const reply = event.data;
      if (!job || reply.id !== job.request.id) return;
      slot.job = null;
      if (reply.ok) job.resolve({ result: reply.result, probe: reply.probe, wallMs: reply.wallMs });
      else job.reject(new OptimizeFailure(reply.code, reply.message, reply.probe));
      this.pump();
    };
    const crashed = (what: string) => {
      const job = slot.job;
      slot.worker.terminate();
      slot.worker = spawn();
      slot.job = null;
      this.attach(slot);
      job?.reject(new OptimizeFailure('WORKER_CRASHED', `the optimizer worker stopped: ${what}`));
      this.pump();
    };
    slot.worker.onerror = (event) => {
      event.preventDefault();
      crashed(event.message || 'unknown error (the worker script may have failed to load)');
    };
    slot.worker.onmessageerror = () => crashed('a message could not be read');
    return slot;
  }
}
