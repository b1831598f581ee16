/**
 * Which table stream records start a multipart completion job (lib/artifacts/upload.service.ts
 * `finish`): an upload record written `completing` under a job id its previous image did not
 * have. The request that starts (or restarts, after a lost worker's lease) a completion makes that
 * write; every other write of the record (the job's own end, a part confirmation) starts nothing.
 * The Lambda consumer (functions/events/complete-uploads.ts) and local mode's stream reader
 * (local/event-stream.ts) both use this.
 */

export interface CompletionJob {
  build_id: string;
  state_code: number;
  name: string;
  upload_id: string;
  job: string;
}

export interface ImagePair {
  eventName?: string;
  newImage?: Record<string, unknown>;
  oldImage?: Record<string, unknown>;
}

export function completionJobs(records: readonly ImagePair[]): CompletionJob[] {
  const out: CompletionJob[] = [];
  for (const r of records) {
    const n = r.newImage;
    if (r.eventName === 'REMOVE' || !n || n.type !== 'upload' || n.status !== 'completing') continue;
    if (typeof n.job !== 'string' || n.job === r.oldImage?.job) continue;
    out.push({
      build_id: String(n.build_id),
      state_code: Number(n.state_code),
      name: String(n.name),
      upload_id: String(n.upload_id),
      job: n.job,
    });
  }
  return out;
}
