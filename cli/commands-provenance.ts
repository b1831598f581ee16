/**
 * `bldst provenance get|verify`: a completed build's signed SLSA provenance, and its check
 * (docs/PROVENANCE.md): the DSSE signature against the key the service serves for its keyid, the
 * statement's subjects against the digests the service recorded, and a local file's digest.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { type DsseEnvelope, IN_TOTO_PAYLOAD_TYPE, pae } from '../lib/provenance/dsse';
import { type Command, defineCommand, one, seg } from './command';
import { CliError, EXIT, usage } from './errors';
import { printJson } from './output';

/** `provenance verify` found something that does not hold (docs/CLI.md, exit codes). */
export const VERIFY_FAILED = 1;

interface Statement {
  _type: string;
  subject: { name: string; digest: { sha256?: string } }[];
  predicateType: string;
  [k: string]: unknown;
}
interface ArtifactRow {
  state_code: number;
  name: string;
  checksum: string | null;
  verified: boolean;
}

const decode = (envelope: DsseEnvelope): Statement =>
  JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as Statement;

function readEnvelope(file: string): DsseEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw usage(`--envelope ${file}: ${(error as Error).message}`);
  }
  const e = parsed as Partial<DsseEnvelope>;
  if (typeof e?.payload !== 'string' || typeof e.payloadType !== 'string' || !Array.isArray(e.signatures))
    throw usage(`--envelope ${file}: not a DSSE envelope (payloadType, payload, signatures)`);
  return e as DsseEnvelope;
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    throw usage(`--artifact ${file}: ${(error as Error).message}`);
  }
  return hash.digest('hex');
}

/** The public key the service serves for a keyid (an open route: no credentials sent). */
async function publicKey(url: string, keyid: string): Promise<string | null> {
  const res = await fetch(`${url}/.well-known/buildstate-signing-key.pem?keyid=${seg(keyid)}`).catch(
    (error: Error) => {
      throw new CliError(`cannot reach ${url}: ${error.message}`, EXIT.server, 'network');
    },
  );
  if (res.status === 404) return null;
  if (!res.ok) throw new CliError(`GET signing key ${keyid}: HTTP ${res.status}`, EXIT.server);
  return res.text();
}

const keyIdOf = (pem: string) =>
  createHash('sha256')
    .update(createPublicKey(pem).export({ format: 'der', type: 'spki' }))
    .digest('hex');

export const PROVENANCE_COMMANDS: Command[] = [
  defineCommand({
    path: ['provenance', 'get'],
    args: '<build-id>',
    summary: "A completed build's signed SLSA provenance (a DSSE envelope); --decode prints the statement",
    options: {
      decode: { type: 'boolean', description: 'print the decoded in-toto statement instead of the envelope' },
    },
    examples: ['bldst provenance get $BUILD_ID > provenance.json', 'bldst provenance get $BUILD_ID --decode'],
    async run(ctx, v, p) {
      const envelope = await ctx.client().get<DsseEnvelope>(`/builds/${seg(one(p, 'build id'))}/provenance`);
      printJson(v.decode ? decode(envelope) : envelope);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['provenance', 'verify'],
    args: '<build-id>',
    summary:
      "Check a build's provenance: its signature, its subjects against the recorded digests, a local file's digest (exit 1 if any fails)",
    options: {
      envelope: {
        type: 'string',
        description: 'check this envelope file instead of the one the service stores',
      },
      artifact: {
        type: 'string',
        multiple: true,
        description: "a local file whose sha256 must be one of the statement's subjects",
      },
    },
    examples: [
      'bldst provenance verify $BUILD_ID',
      'bldst provenance verify $BUILD_ID --envelope provenance.json --artifact image.qcow2',
    ],
    async run(ctx, v, p) {
      const id = one(p, 'build id');
      const client = ctx.client();
      const envelope = v.envelope
        ? readEnvelope(v.envelope)
        : await client.get<DsseEnvelope>(`/builds/${seg(id)}/provenance`);
      const problems: string[] = [];
      const checks: string[] = [];

      // 1. The signature: DSSE's PAE, verified with the key served for the envelope's keyid.
      if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE)
        problems.push(`payloadType is ${envelope.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`);
      const signed = pae(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
      let good = 0;
      for (const s of envelope.signatures) {
        const pem = await publicKey(client.url, s.keyid);
        if (!pem) {
          problems.push(`signature by key ${s.keyid}: the service has no such key`);
          continue;
        }
        if (keyIdOf(pem) !== s.keyid) {
          problems.push(`key served for ${s.keyid} has another id (${keyIdOf(pem)})`);
          continue;
        }
        if (verify('sha256', signed, { key: pem, dsaEncoding: 'der' }, Buffer.from(s.sig, 'base64'))) {
          good++;
          checks.push(`signature: valid (key ${s.keyid})`);
        } else
          problems.push(
            `signature by key ${s.keyid}: INVALID (the envelope was changed or not signed by it)`,
          );
      }
      if (envelope.signatures.length === 0) problems.push('the envelope has no signature');

      // 2. The subjects: each artifact subject's digest is the one the service recorded.
      let statement: Statement | null = null;
      try {
        statement = decode(envelope);
      } catch {
        problems.push('the payload is not a JSON statement');
      }
      if (statement) {
        const invocation = (
          statement.predicate as { runDetails?: { metadata?: { invocationId?: string } } } | undefined
        )?.runDetails?.metadata?.invocationId;
        if (invocation !== id) problems.push(`the statement is about build ${invocation}, not ${id}`);
        const { states } = await client.get<{ states: { artifacts: ArtifactRow[] }[] }>(
          `/builds/${seg(id)}/artifacts`,
        );
        const items = states.flatMap((s) => s.artifacts);
        const recorded = new Map(
          items.map((a) => [`states/${a.state_code}/${a.name}`, a.checksum?.replace(/^sha256:/, '') ?? null]),
        );
        let matched = 0;
        for (const subject of statement.subject ?? []) {
          if (!subject.name.startsWith('states/')) continue; // an image: its digest is the cloud's
          const want = recorded.get(subject.name);
          if (want === undefined) problems.push(`subject ${subject.name}: the build has no such artifact`);
          else if (want !== subject.digest.sha256)
            problems.push(
              `subject ${subject.name}: digest ${subject.digest.sha256} but the build recorded ${want}`,
            );
          else matched++;
        }
        checks.push(`subjects: ${matched} artifact digest(s) match the build's records`);

        // 3. Local files: each one's sha256 names a subject.
        for (const file of v.artifact ?? []) {
          const digest = await fileSha256(file);
          const subject = statement.subject.find((s) => s.digest.sha256 === digest);
          if (subject) checks.push(`${file}: sha256 ${digest} is subject ${subject.name}`);
          else problems.push(`${file}: sha256 ${digest} is not a subject of this provenance`);
        }
      }

      if (ctx.outputAsked && ctx.output === 'json')
        printJson({ ok: problems.length === 0 && good > 0, checks, problems });
      else if (!ctx.quiet) {
        for (const c of checks) process.stdout.write(`ok    ${c}\n`);
        for (const pr of problems) process.stdout.write(`FAIL  ${pr}\n`);
      }
      return problems.length === 0 && good > 0 ? EXIT.ok : VERIFY_FAILED;
    },
  }),
];
