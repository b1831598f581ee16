/**
 * Transfers at once, stated here once for the code and every --help that names them (no imports:
 * the command tables load it without the transfer code).
 * - Uploads: 8 multipart parts at once (issue 26).
 * - Downloads: 10 ranged GETs at once, as `aws s3 cp` (its max_concurrent_requests).
 */
export const DEFAULT_UPLOAD_PARALLEL = 8;
export const DEFAULT_DOWNLOAD_PARALLEL = 10;
