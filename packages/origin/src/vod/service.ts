// The VOD routes: upload a video file (a form or a raw body), follow its job, delete it. The
// transcode itself runs in jobs.ts and arrives through the loopback listener like any stream.
//
//   POST /vod                form (multipart/form-data) with a `file` part, optional `name` field
//   PUT  /vod/<name>         the file as the raw body (curl -T)
//   GET  /vod/jobs           every job, JSON
//   GET  /vod/jobs/<name>    one job, JSON
//   DELETE /vod/<name>       stops the job and removes the asset
//   GET  /vod/<name>/...     the asset: manifest.m3u8, manifest.mpd, segments (ordinary objects)
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { OriginContext } from '../context.js';
import { whenDone } from '../http/lifetime.js';
import { refuse, sendBody, sendContinue, sendEmpty, sendNotFound } from '../http/respond.js';
import type { Exchange, Route } from '../http/router.js';
import { admitIngest } from '../ingest/auth.js';
import { publishManifest, removeUnder } from '../ingest/write.js';
import { admitUpload } from '../ops/limits.js';
import { RESERVED_PREFIX } from '../store/disk.js';
import { ASSET_NAME, VodJobs } from './jobs.js';
import type { VodSettings } from './options.js';
import { probe } from './probe.js';
import { isForm, receiveForm, receiveRaw, type Received } from './receive.js';

/** Names the routes use themselves. */
const TAKEN_BY_ROUTES = new Set(['jobs']);

const JSON_TYPE = 'application/json; charset=utf-8';

/** Requests the loopback listener passed on (ffmpeg writing an asset). */
const fromLoopback = new WeakSet<IncomingMessage>();

/** How long a read of a segment not made yet is held while its asset transcodes, ms. */
export const VOD_HOLD_MS = 15_000;

export class VodService {
  readonly jobs: VodJobs;
  /** `/vod` without its trailing slash. */
  private readonly base: string;

  constructor(
    private readonly ctx: OriginContext,
    private readonly settings: VodSettings,
    /** Key prefix of the assets, ending with '/'. */
    private readonly prefix: string,
    /** The origin's handler for ingest requests (ffmpeg's uploads go through it). */
    ingest: RequestListener,
  ) {
    if (ctx.dir === undefined) throw new RangeError('VOD needs the disk tier (dir): assets must outlive the memory cap and restarts');
    this.base = prefix.slice(0, -1);
    this.jobs = new VodJobs({
      settings,
      prefix,
      workDir: join(ctx.dir, `${RESERVED_PREFIX}vod`),
      ingest: (req, res) => {
        fromLoopback.add(req);
        ingest(req, res);
      },
      ingestSecret: ctx.ingestSecret,
      maxManifestBytes: ctx.maxManifestSize,
      publishManifest: (key, body) => publishManifest(ctx, key, body),
      removeUnder: (p) => void removeUnder(ctx, p),
      warn: ctx.warn,
    });
    // Players of an asset being made ask for segments ahead of the transcode (a static MPD
    // declares them all): held until they are made, within the timeouts players give a request
    // (dash.js 20 s), not answered 404 after holdMs.
    ctx.holdRules.push((key) => {
      if (!key.startsWith(prefix)) return undefined;
      const slash = key.indexOf('/', prefix.length);
      return slash > 0 && this.jobs.transcoding(key.slice(prefix.length, slash)) ? VOD_HOLD_MS : undefined;
    });
  }

  close(): void {
    this.jobs.close();
  }

  readonly route: Route = (x: Exchange): boolean => {
    const { key, req } = x;
    if (key !== this.base && !key.startsWith(this.prefix)) return false;
    const rest = key === this.base ? '' : key.slice(this.prefix.length);
    const method = req.method ?? '';
    if (rest === 'jobs' || rest.startsWith('jobs/')) return this.answerJobs(x, rest.slice('jobs/'.length));
    if (rest === '' && (method === 'POST' || method === 'PUT')) return this.upload(x, undefined), true;
    if (rest !== '' && !rest.includes('/')) {
      if (method === 'POST' || method === 'PUT') return this.upload(x, rest), true;
      if (method === 'DELETE') return this.remove(x, rest), true;
      return false;
    }
    // A job's asset is written by its transcode only.
    if ((method === 'PUT' || method === 'POST' || method === 'DELETE') && !fromLoopback.has(req) && this.jobs.owns(key)) {
      const name = rest.slice(0, rest.indexOf('/'));
      refuse(req, x.res, 409, `${this.prefix}${name}/ is written by its VOD job; DELETE ${this.prefix}${name} to remove it`);
      return true;
    }
    return false;
  };

  private answerJobs({ req, res }: Exchange, name: string): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(req, res, 405, `method ${req.method} not allowed`, { Allow: 'GET, HEAD' });
      return true;
    }
    if (name === '') {
      sendBody(req, res, 200, JSON_TYPE, JSON.stringify({ jobs: this.jobs.list() }, null, 1));
      return true;
    }
    const job = this.jobs.get(name);
    if (job === undefined) sendNotFound(res, `no VOD job '${name}'`);
    else sendBody(req, res, 200, JSON_TYPE, JSON.stringify(job, null, 1));
    return true;
  }

  private remove(x: Exchange, name: string): void {
    if (!admitIngest(x.ctx, x.req, x.res, x.tally)) return;
    if (!this.jobs.remove(name)) return sendNotFound(x.res, `no VOD asset '${name}'`);
    sendEmpty(x.res, 204);
  }

  private upload(x: Exchange, pathName: string | undefined): void {
    const { ctx, req, res } = x;
    if (!admitIngest(ctx, req, res, x.tally) || !admitUpload(ctx, req, res)) return;
    const limit = this.settings.maxUploadBytes;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) return refuse(req, res, 413, `the file of ${declared} bytes is larger than the limit of ${limit} bytes`);
    const form = isForm(req);
    if (!form && pathName === undefined) return refuse(req, res, 400, `PUT the file to ${this.prefix}<name>, or POST a multipart/form-data form to ${this.base}`);
    if (pathName !== undefined && !validName(pathName)) return refuse(req, res, 400, nameRule(pathName));
    // A path names the asset now; a form may name it in a field or by its file name.
    const held = pathName ?? `.form-${Math.random().toString(36).slice(2)}`;
    const reserved = this.jobs.reserve(held);
    if (reserved === 'taken') return refuse(req, res, 409, `'${held}' exists; DELETE ${this.prefix}${held} first`);
    if (reserved === 'full') return refuse(req, res, 503, `the VOD queue is full (${this.settings.maxQueued} waiting)`, { 'Retry-After': '30' });
    if (reserved === 'unavailable') return refuse(req, res, 503, `VOD is unavailable: ${this.jobs.unavailable}`);
    ctx.metrics.uploadStarted();
    whenDone(req, res, () => ctx.metrics.uploadEnded());
    sendContinue(res);
    // The name held for the upload (a form's is settled once its fields are read) and its file.
    const slot = { name: held, file: this.jobs.incomingFile(form ? 'form' : held) };
    const limits = { maxBytes: limit, idleMs: ctx.ingestIdleMs };
    void (form ? receiveForm(req, slot.file, limits) : receiveRaw(req, slot.file, limits))
      .then((received) => this.accept(req, res, received, slot, pathName))
      .catch((err) => {
        this.jobs.release(slot.name);
        this.jobs.discardIncoming(slot.file);
        refuse(req, res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      });
  }

  /** The upload is on disk (or failed): name it, probe it, queue it. */
  private async accept(req: IncomingMessage, res: ServerResponse, received: Received, slot: { name: string; file: string }, pathName: string | undefined): Promise<void> {
    // The body is in: the upload's idle timer must not cut the connection while ffprobe reads.
    req.setTimeout(0);
    const refuseUpload = (status: number, text: string): void => {
      this.jobs.release(slot.name);
      this.jobs.discardIncoming(slot.file);
      refuse(req, res, status, text);
    };
    if (!received.ok) return refuseUpload(received.status, received.reason);
    if (received.bytes === 0) return refuseUpload(400, 'the upload is empty');
    if (pathName === undefined) {
      const asked = received.fields.name?.trim();
      this.jobs.release(slot.name);
      if (asked !== undefined && asked !== '') {
        if (!validName(asked)) return this.jobs.discardIncoming(slot.file), refuse(req, res, 400, nameRule(asked));
        if (this.jobs.reserve(asked) !== 'ok') return this.jobs.discardIncoming(slot.file), refuse(req, res, 409, `'${asked}' exists; DELETE ${this.prefix}${asked} first`);
        slot.name = asked;
      } else {
        slot.name = this.freeName(nameFromFile(received.filename));
      }
    }
    const result = await probe(this.settings.ffprobe, slot.file);
    if (this.jobs.deletedWhileUploading(slot.name)) return refuseUpload(409, `${this.prefix}${slot.name} was deleted while it was uploading`);
    if (!result.ok) return refuseUpload(422, `not a video we can transcode: ${result.reason}`);
    const job = this.jobs.submit(slot.name, slot.file, { ...result.facts, bytes: received.bytes, filename: received.filename });
    sendBody(req, res, 202, JSON_TYPE, JSON.stringify(job, null, 1), { Location: `${this.prefix}jobs/${slot.name}` });
  }

  /** `base`, or `base-2`, `base-3`... whichever is free; reserved for the caller. */
  private freeName(base: string): string {
    for (let i = 1; i < 1000; i++) {
      const name = i === 1 ? base : `${base.slice(0, 58)}-${i}`;
      if (!TAKEN_BY_ROUTES.has(name) && this.jobs.reserve(name) === 'ok') return name;
    }
    const name = `${base.slice(0, 50)}-${Date.now().toString(36)}`;
    this.jobs.reserve(name);
    return name;
  }
}

function validName(name: string): boolean {
  return ASSET_NAME.test(name) && !TAKEN_BY_ROUTES.has(name);
}

function nameRule(name: string): string {
  return `bad asset name '${name}': 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, and not 'jobs'`;
}

/** An asset name from an uploaded file's name: `My Trip (2).MOV` becomes `My-Trip-2`. */
export function nameFromFile(filename: string | undefined): string {
  const base = (filename ?? '').split(/[\\/]/).pop()!.replace(/\.[^.]*$/, '');
  const cleaned = base.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/-+$/, '').slice(0, 56);
  return cleaned === '' ? 'video' : cleaned;
}
