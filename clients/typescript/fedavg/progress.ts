// Progress of one averaging as the client sees it: three stages (upload, compute, download) and
// the bytes moved, for a progress bar over a large model.

import type { TensorSet } from '../../../shared/tensors.js';

/** The stages of one averaging as a client sees it, in order. */
export const FEDAVG_STAGES = ['upload', 'compute', 'download'] as const;

/**
 * Where one averaging is. `stage` is the stage under way ("done" at the end); `stagesDone` of
 * `stages` are finished. The upload reports its bytes as they go; the compute stage waits for the
 * other parties and runs the protocol on the servers; the download reports its size when done.
 */
export interface FedAvgProgress {
  readonly stage: (typeof FEDAVG_STAGES)[number] | 'done';
  readonly stagesDone: number;
  readonly stages: number;
  readonly bytesUploaded: number;
  readonly bytesToUpload: number;
  readonly bytesDownloaded: number;
}

/** Reports progress through `onProgress` (if any); a throwing callback never breaks the averaging. */
export function progressReporter(onProgress: ((p: FedAvgProgress) => void) | undefined) {
  const state = { stage: 'upload' as FedAvgProgress['stage'], stagesDone: 0, bytesUploaded: 0, bytesToUpload: 0, bytesDownloaded: 0 };
  const emit = (): void => {
    if (onProgress === undefined) return;
    try {
      onProgress({ ...state, stages: FEDAVG_STAGES.length });
    } catch {
      // A progress display must not fail the computation.
    }
  };
  return {
    uploading: (sent: number, total: number): void => {
      state.bytesUploaded = sent;
      state.bytesToUpload = total;
      emit();
    },
    stage: (stage: FedAvgProgress['stage'], stagesDone: number): void => {
      state.stage = stage;
      state.stagesDone = stagesDone;
      emit();
    },
    downloaded: (bytes: number): void => {
      state.bytesDownloaded = bytes;
    },
  };
}

export function safetensorsBytes(set: TensorSet): number {
  return set.safetensorsChunks().reduce((n, c) => n + c.byteLength, 0);
}
