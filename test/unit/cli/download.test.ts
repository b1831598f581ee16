import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { destinationOf, s3Reason } from '../../../cli/download';

describe('s3Reason', () => {
  it("summarises S3's XML error as Code: Message", () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>AccessDenied</Code>\n  <Message>Request has expired</Message>\n  <X-Amz-Expires>3</X-Amz-Expires>\n</Error>';
    expect(s3Reason(xml)).toBe('AccessDenied: Request has expired');
  });

  it('strips the markup of anything else to one line of at most 200 characters', () => {
    expect(s3Reason('<html><body><h1>403 Forbidden</h1>\n<p>by proxy</p></body></html>')).toBe(
      '403 Forbidden by proxy',
    );
    expect(s3Reason('x'.repeat(500))).toHaveLength(200);
  });
});

describe('destinationOf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bs-dest-'));
  mkdirSync(join(dir, 'images'));
  writeFileSync(join(dir, 'file'), '');

  it('keeps a file path, and puts the artifact name in an existing folder', () => {
    expect(destinationOf(join(dir, 'x.bin'), 'a.raw')).toBe(join(dir, 'x.bin'));
    expect(destinationOf(join(dir, 'images'), 'a.raw')).toBe(join(dir, 'images', 'a.raw'));
    expect(destinationOf(`${join(dir, 'images')}/`, 'a.raw')).toBe(join(dir, 'images', 'a.raw'));
  });

  it('refuses a folder that does not exist and a path under a file, as usage errors (exit 2)', () => {
    expect(() => destinationOf(join(dir, 'none', 'x.bin'), 'a.raw')).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringContaining('does not exist') }),
    );
    expect(() => destinationOf(join(dir, 'file', 'x.bin'), 'a.raw')).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringContaining('is not a folder') }),
    );
  });
});
