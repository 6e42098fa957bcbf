// VOD jobs: a queue of uploaded sources, transcoded `maxJobs` at a time into assets under the VOD
// prefix. Each job's record is a small JSON file written on every change of state, so a restart
// finds every job: a finished or failed one as it was, a waiting one still waiting, and one cut
// mid-transcode started again from its source (its partial asset removed first). An asset is
// never left half: a failed or cancelled transcode's objects are removed with it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { join } from 'node:path';
import { planLadder, transcodeArgs, type Ladder } from './ladder.js';
import { LoopbackIngest } from './loopback.js';
import { staticVodMpd } from './manifest.js';
import type { VodSettings } from './options.js';
import type { SourceFacts } from './probe.js';
import { Transcode, type TranscodeEnd } from './transcode.js';

/** Where a job is. */
export type JobState = 'queued' | 'transcoding' | 'done' | 'failed';

/** One job as `/vod/jobs` shows it (and as its record holds it). */
export interface VodJob {
  name: string;
  state: JobState;
  /** Percent of the source's duration encoded, 0-100. */
  percent: number;
  /** Why it failed. */
  error?: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  source: SourceFacts & { bytes: number; filename?: string };
  /** The renditions, by the id they have in the MPD (and in `manifest_<id>.m3u8`). */
  renditions: { id: string; name: string; width?: number; height?: number; kbps: number; type: 'video' | 'audio' }[];
  /**
   * The generated HLS multivariant playlist, and the MPD: static for the whole asset from the
   * start (see vod/manifest.ts), ffmpeg's own final one once done.
   */
  hls: string;
  dash: string;
}

/** What the jobs need from the origin around them. */
export interface JobsHost {
  settings: VodSettings;
  /** The asset key prefix, e.g. `/vod/`. */
  prefix: string;
  /** Private directory for sources, uploads in flight and job records. */
  workDir: string;
  /** The origin's ingest handler: ffmpeg's uploads go through it. */
  ingest: RequestListener;
  /** The ingest secret, presented on ffmpeg's behalf. */
  ingestSecret: string | undefined;
  maxManifestBytes: number;
  /** Stores a complete MPD under `key`, as an upload of it would. */
  publishManifest(key: string, body: Buffer): void;
  /** Removes every object under a key prefix (memory and disk). */
  removeUnder(prefix: string): void;
  warn(message: string): void;
}

/** After ffmpeg exits, how long its connections may take to be read to their end. */
const DRAIN_MS = 10_000;

/** ffmpeg that reports no progress for this long is stuck: it is killed and the job fails. */
const STALL_MS = 5 * 60_000;

/** What one running transcode holds. */
interface Run {
  loopback: LoopbackIngest;
  transcode: Transcode | undefined;
  /** ffmpeg's final MPD, held until every segment is in. */
  finalMpd: Buffer | undefined;
  /** The MPD published while the transcode runs (static, the whole asset). */
  publishedMpd: Buffer | undefined;
  /** The first upload the origin refused (ffmpeg ignores refusals; the asset would have holes). */
  refused: string | undefined;
}

/** An asset name: a path segment that is safe everywhere (URL, file name, playlist URI). */
export const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class VodJobs {
  private readonly jobs = new Map<string, VodJob>();
  private readonly queue: string[] = [];
  /** Jobs being transcoded (from the moment they leave the queue), with their listener and ffmpeg. */
  private readonly running = new Map<string, Run | undefined>();
  /** Names of uploads in flight (not jobs yet), and whether a DELETE came for one meanwhile. */
  private readonly reserved = new Map<string, { deleted: boolean }>();
  private closed = false;
  /** Why no upload can be taken (the work directory cannot be used), else undefined. */
  readonly unavailable: string | undefined;

  constructor(private readonly host: JobsHost) {
    try {
      for (const dir of [this.dir('jobs'), this.dir('sources')]) mkdirSync(dir, { recursive: true });
      this.recover();
    } catch (err) {
      // A broken disk costs VOD, never the origin's start.
      this.unavailable = `cannot use ${host.workDir}: ${err instanceof Error ? err.message : String(err)}`;
      host.warn(`vod: ${this.unavailable}`);
    }
  }

  /** Whether `name`'s asset is being transcoded now. */
  transcoding(name: string): boolean {
    return this.jobs.get(name)?.state === 'transcoding';
  }

  /** A path for an upload in flight of `name`. */
  incomingFile(name: string): string {
    return join(this.dir('incoming'), `${name}-${randomBytes(8).toString('hex')}`);
  }

  /** Holds `name` for an upload: 'taken' when a job or an upload has it, 'full' when the queue is. */
  reserve(name: string): 'ok' | 'taken' | 'full' | 'unavailable' {
    if (this.unavailable !== undefined) return 'unavailable';
    // A job just removed may still be stopping: its name is free once its ffmpeg is gone.
    if (this.jobs.has(name) || this.reserved.has(name) || this.running.has(name)) return 'taken';
    if (this.queue.length + this.reserved.size >= this.host.settings.maxQueued) return 'full';
    this.reserved.set(name, { deleted: false });
    return 'ok';
  }

  /** Whether a DELETE came for `name` while its upload was in flight. */
  deletedWhileUploading(name: string): boolean {
    return this.reserved.get(name)?.deleted === true;
  }

  /** Removes an upload that did not become a job. */
  discardIncoming(file: string): void {
    rmSync(file, { force: true });
  }

  release(name: string): void {
    this.reserved.delete(name);
  }

  /** A probed upload becomes a job (its file moves to the sources) and waits its turn. */
  submit(name: string, file: string, source: VodJob['source']): VodJob {
    this.reserved.delete(name);
    renameSync(file, this.sourceFile(name));
    const ladder = planLadder(this.host.settings, source);
    const job: VodJob = {
      name,
      state: 'queued',
      percent: 0,
      createdAt: new Date().toISOString(),
      source,
      renditions: describe(ladder),
      hls: `${this.assetPrefix(name)}manifest.m3u8`,
      dash: `${this.assetPrefix(name)}manifest.mpd`,
    };
    this.jobs.set(name, job);
    this.queue.push(name);
    this.save(job);
    this.pump();
    return job;
  }

  get(name: string): VodJob | undefined {
    return this.jobs.get(name);
  }

  list(): VodJob[] {
    return [...this.jobs.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  /** Whether `key` is under a job's asset (what only that job writes). */
  owns(key: string): boolean {
    const rest = key.startsWith(this.host.prefix) ? key.slice(this.host.prefix.length) : undefined;
    const slash = rest?.indexOf('/') ?? -1;
    return rest !== undefined && slash > 0 && this.jobs.has(rest.slice(0, slash));
  }

  /**
   * Stops a job (ffmpeg killed), removes its asset, source and record; an upload in flight under
   * the name is refused when it ends. False when there is no such job or upload.
   */
  remove(name: string): boolean {
    const uploading = this.reserved.get(name);
    if (uploading !== undefined) {
      uploading.deleted = true;
      return true;
    }
    const job = this.jobs.get(name);
    if (job === undefined) return false;
    this.jobs.delete(name);
    const i = this.queue.indexOf(name);
    if (i >= 0) this.queue.splice(i, 1);
    this.stop(name);
    this.host.removeUnder(this.assetPrefix(name));
    rmSync(this.sourceFile(name), { force: true });
    rmSync(this.recordFile(name), { force: true });
    return true;
  }

  /** Stops running transcodes without touching records: a restart starts them again. */
  close(): void {
    this.closed = true;
    for (const name of this.running.keys()) this.stop(name);
  }

  /** Kills a job's ffmpeg and cuts its uploads in flight (so none brings a removed object back). */
  private stop(name: string): void {
    const run = this.running.get(name);
    run?.transcode?.kill();
    run?.loopback.close();
  }

  private assetPrefix(name: string): string {
    return `${this.host.prefix}${name}/`;
  }

  private dir(what: 'jobs' | 'sources' | 'incoming'): string {
    return join(this.host.workDir, what);
  }

  private sourceFile(name: string): string {
    return join(this.dir('sources'), name);
  }

  private recordFile(name: string): string {
    return join(this.dir('jobs'), `${name}.json`);
  }

  /** Written whole, then renamed: a crash leaves the old record or the new one. False when it could not be saved. */
  private save(job: VodJob): boolean {
    if (!this.jobs.has(job.name)) return false;
    const file = this.recordFile(job.name);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(job, null, 2));
      renameSync(`${file}.tmp`, file);
      return true;
    } catch (err) {
      this.host.warn(`vod: cannot save the record of ${job.name}: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
  }

  /** Reads the records left by the last run; uploads it was receiving are gone with their client. */
  private recover(): void {
    rmSync(this.dir('incoming'), { recursive: true, force: true });
    mkdirSync(this.dir('incoming'), { recursive: true });
    const found: VodJob[] = [];
    for (const entry of readdirSync(this.dir('jobs'))) {
      if (!entry.endsWith('.json')) continue;
      try {
        const job = JSON.parse(readFileSync(join(this.dir('jobs'), entry), 'utf8')) as VodJob;
        // The name becomes paths: a record that was not written by us is not trusted.
        if (typeof job.name !== 'string' || !ASSET_NAME.test(job.name) || `${job.name}.json` !== entry) throw new Error('not a job record');
        found.push(job);
      } catch (err) {
        this.host.warn(`vod: unreadable job record ${entry} ignored: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    found.sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
    for (const job of found) {
      this.jobs.set(job.name, job);
      // A crash between the record and the source's removal: the source is not needed.
      if (job.state === 'done' || job.state === 'failed') {
        rmSync(this.sourceFile(job.name), { force: true });
        continue;
      }
      // Cut mid-transcode: whatever it wrote goes, it starts again (run() removes it too).
      if (job.state === 'transcoding') this.host.removeUnder(this.assetPrefix(job.name));
      if (!existsSync(this.sourceFile(job.name))) {
        this.fail(job, 'the source file was lost in a restart');
        continue;
      }
      job.state = 'queued';
      job.percent = 0;
      delete job.startedAt;
      this.queue.push(job.name);
      this.save(job);
    }
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.host.settings.maxJobs && this.queue.length > 0) {
      const name = this.queue.shift()!;
      const job = this.jobs.get(name);
      if (job === undefined) continue;
      // Taken now, not once ffmpeg runs: the next turn of this loop must see it.
      this.running.set(name, undefined);
      // A disk error in the bookkeeping must cost this job, never the process.
      this.run(job).catch((err) => {
        this.host.warn(`vod: job ${name}: ${err instanceof Error ? err.message : String(err)}`);
        this.finished(name);
      });
    }
  }

  private async run(job: VodJob): Promise<void> {
    const settings = this.host.settings;
    const prefix = this.assetPrefix(job.name);
    // Whatever an earlier attempt left (it never reached done) goes first.
    this.host.removeUnder(prefix);
    job.state = 'transcoding';
    job.percent = 0;
    job.startedAt = new Date().toISOString();
    this.save(job);
    const run: Run = { loopback: undefined!, transcode: undefined, finalMpd: undefined, publishedMpd: undefined, refused: undefined };
    run.loopback = new LoopbackIngest({
      handler: this.host.ingest,
      secret: this.host.ingestSecret,
      prefix,
      mpdKey: job.dash,
      maxManifestBytes: this.host.maxManifestBytes,
      manifest: (body) => {
        const text = body.toString('utf8');
        if (/\btype\s*=\s*["']static["']/.test(text)) {
          run.finalMpd = body;
          return;
        }
        // Players get the asset as VOD from the start; ffmpeg's later versions change nothing
        // of it but their timelines, so it is published again only if it differs.
        const vod = staticVodMpd(text, job.source.videoDuration ?? job.source.duration, settings.segmentSeconds);
        if (vod === undefined && run.publishedMpd === undefined) this.host.warn(`vod: ${job.name}: ffmpeg's MPD could not be made static; serving it as it is`);
        const next = vod === undefined ? body : Buffer.from(vod);
        if (run.publishedMpd !== undefined && next.equals(run.publishedMpd)) return;
        run.publishedMpd = next;
        this.host.publishManifest(job.dash, next);
      },
      refused: (what) => {
        run.refused ??= what;
      },
    });
    this.running.set(job.name, run);
    let end: TranscodeEnd;
    try {
      const url = await run.loopback.url(job.dash);
      if (this.jobs.get(job.name) !== job || this.closed) return this.finished(job.name);
      const args = transcodeArgs(settings, planLadder(settings, job.source), this.sourceFile(job.name), url);
      let progressAt = Date.now();
      const transcode = new Transcode(settings.ffmpeg, args, (seconds) => {
        progressAt = Date.now();
        job.percent = Math.min(99.9, Math.round((1000 * seconds) / job.source.duration) / 10);
      });
      run.transcode = transcode;
      let stalled = false;
      const watchdog = setInterval(() => {
        if (Date.now() - progressAt < STALL_MS) return;
        stalled = true;
        transcode.kill();
      }, 10_000);
      watchdog.unref();
      end = await transcode.ended;
      clearInterval(watchdog);
      if (stalled) end = { ...end, said: `no progress for ${STALL_MS / 60_000} minutes` };
      // Every upload ffmpeg sent is in once each of its connections has been read to its end.
      if (end.code === 0 && !(await run.loopback.drained(DRAIN_MS))) end = { ...end, code: null, said: 'its uploads did not finish after it exited' };
    } catch (err) {
      end = { code: null, signal: null, said: `the transcode could not start: ${err instanceof Error ? err.message : String(err)}` };
    }
    run.loopback.close();
    // Removed (cancelled) meanwhile: remove() took the asset. Or the origin is closing: the
    // record says transcoding, so a restart does it again.
    if (this.jobs.get(job.name) !== job || this.closed) return this.finished(job.name);
    const said = end.said.split(run.loopback.secretText).join('***');
    if (end.code === 0 && run.refused === undefined && run.finalMpd !== undefined) {
      // The whole asset is in: now its MPD may say static, and its playlists end.
      this.host.publishManifest(job.dash, run.finalMpd);
      job.state = 'done';
      job.percent = 100;
      job.endedAt = new Date().toISOString();
      // The source goes only once the record says done: a restart must never find neither.
      if (this.save(job)) rmSync(this.sourceFile(job.name), { force: true });
    } else {
      const how =
        run.refused !== undefined
          ? `the origin refused an upload (${run.refused})`
          : end.signal !== null
            ? `ffmpeg was killed (${end.signal})`
            : end.code === 0
              ? 'ffmpeg ended without a final MPD'
              : end.code !== null
                ? `ffmpeg exited with code ${end.code}`
                : 'the transcode failed';
      this.host.removeUnder(prefix);
      this.fail(job, said !== '' ? `${how}: ${said}` : how);
    }
    this.finished(job.name);
  }

  private finished(name: string): void {
    this.running.get(name)?.loopback.close();
    this.running.delete(name);
    this.pump();
  }

  private fail(job: VodJob, reason: string): void {
    job.state = 'failed';
    job.error = reason;
    job.endedAt = new Date().toISOString();
    rmSync(this.sourceFile(job.name), { force: true });
    this.save(job);
  }
}

/** The renditions by the Representation ids ffmpeg gives them: video in ladder order, then audio. */
function describe(ladder: Ladder): VodJob['renditions'] {
  const out: VodJob['renditions'] = ladder.video.map((r, i) => ({ id: String(i), name: r.name, width: r.width, height: r.height, kbps: r.videoKbps, type: 'video' }));
  if (ladder.audioKbps !== undefined) out.push({ id: String(ladder.video.length), name: 'audio', kbps: ladder.audioKbps, type: 'audio' });
  return out;
}
