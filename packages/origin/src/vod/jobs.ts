// VOD jobs: a queue of uploaded sources, transcoded `maxJobs` at a time into assets under the VOD
// prefix. Each job's record is a small JSON file written on every change of state, so a restart
// finds every job: a finished or failed one as it was, a waiting one still waiting, and one cut
// mid-transcode started again from its source (its partial asset removed first). An asset is
// never left half: a failed or cancelled transcode's objects are removed with it.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planLadder, transcodeArgs, type Ladder } from './ladder.js';
import type { LoopbackIngest } from './loopback.js';
import type { VodSettings } from './options.js';
import type { SourceFacts } from './probe.js';
import { Transcode } from './transcode.js';

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
  /** The generated HLS multivariant playlist and ffmpeg's MPD. */
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
  loopback: LoopbackIngest;
  /** Removes every object under a key prefix (memory and disk). */
  removeUnder(prefix: string): void;
  /** Resolves true once the channel of `mpdKey` ended (its MPD went static), false after `ms`. */
  whenEnded(mpdKey: string, ms: number): Promise<boolean>;
  warn(message: string): void;
}

/** After ffmpeg exits, how long its final MPD may take to be read. */
const FINAL_MPD_WAIT_MS = 10_000;

export class VodJobs {
  private readonly jobs = new Map<string, VodJob>();
  private readonly queue: string[] = [];
  /** Jobs being transcoded (from the moment they leave the queue), and their ffmpeg once it runs. */
  private readonly running = new Map<string, Transcode | undefined>();
  /** Names of uploads in flight (not jobs yet). */
  private readonly reserved = new Set<string>();
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

  /** A path for an upload in flight of `name`. */
  incomingFile(name: string): string {
    return join(this.dir('incoming'), `${name}-${process.pid}-${Date.now().toString(36)}`);
  }

  /** Holds `name` for an upload: 'taken' when a job or an upload has it, 'full' when the queue is. */
  reserve(name: string): 'ok' | 'taken' | 'full' | 'unavailable' {
    if (this.unavailable !== undefined) return 'unavailable';
    // A job just removed may still be stopping: its name is free once its ffmpeg is gone.
    if (this.jobs.has(name) || this.reserved.has(name) || this.running.has(name)) return 'taken';
    if (this.queue.length + this.reserved.size >= this.host.settings.maxQueued) return 'full';
    this.reserved.add(name);
    return 'ok';
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

  /** Whether ffmpeg may write `key`: under the asset of a job being transcoded. */
  writable(key: string): boolean {
    for (const name of this.running.keys()) if (this.jobs.has(name) && key.startsWith(this.assetPrefix(name))) return true;
    return false;
  }

  /** Whether `key` is under a job's asset (what only that job writes). */
  owns(key: string): boolean {
    const rest = key.startsWith(this.host.prefix) ? key.slice(this.host.prefix.length) : undefined;
    const slash = rest?.indexOf('/') ?? -1;
    return rest !== undefined && slash > 0 && this.jobs.has(rest.slice(0, slash));
  }

  /** Stops a job (ffmpeg killed), removes its asset, source and record. False when there is no such job. */
  remove(name: string): boolean {
    const job = this.jobs.get(name);
    if (job === undefined) return false;
    this.jobs.delete(name);
    const i = this.queue.indexOf(name);
    if (i >= 0) this.queue.splice(i, 1);
    this.running.get(name)?.kill();
    this.discardAsset(name);
    rmSync(this.sourceFile(name), { force: true });
    rmSync(this.recordFile(name), { force: true });
    return true;
  }

  /** Stops running transcodes without touching records: a restart starts them again. */
  close(): void {
    this.closed = true;
    for (const t of this.running.values()) t?.kill();
  }

  /** Removes what a job wrote, cutting its uploads still in flight first. */
  private discardAsset(name: string): void {
    this.host.loopback.cut(this.assetPrefix(name));
    this.host.removeUnder(this.assetPrefix(name));
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

  /** Written whole, then renamed: a crash leaves the old record or the new one. */
  private save(job: VodJob): void {
    if (!this.jobs.has(job.name)) return;
    const file = this.recordFile(job.name);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(job, null, 2));
      renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.host.warn(`vod: cannot save the record of ${job.name}: ${err instanceof Error ? err.message : String(err)}`);
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
        found.push(JSON.parse(readFileSync(join(this.dir('jobs'), entry), 'utf8')) as VodJob);
      } catch (err) {
        this.host.warn(`vod: unreadable job record ${entry} ignored: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    found.sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
    for (const job of found) {
      this.jobs.set(job.name, job);
      if (job.state === 'done' || job.state === 'failed') continue;
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
      void this.run(job);
    }
  }

  private async run(job: VodJob): Promise<void> {
    const settings = this.host.settings;
    const prefix = this.assetPrefix(job.name);
    // Whatever an earlier attempt left (it never reached done) goes first.
    this.discardAsset(job.name);
    job.state = 'transcoding';
    job.percent = 0;
    job.startedAt = new Date().toISOString();
    this.save(job);
    const ladder = planLadder(settings, job.source);
    let end;
    try {
      const url = await this.host.loopback.url(`${prefix}manifest.mpd`);
      if (this.jobs.get(job.name) !== job || this.closed) return this.finished(job.name);
      const transcode = new Transcode(settings.ffmpeg, transcodeArgs(settings, ladder, this.sourceFile(job.name), url), (seconds) => {
        job.percent = Math.min(99.9, Math.round((1000 * seconds) / job.source.duration) / 10);
      });
      this.running.set(job.name, transcode);
      end = await transcode.ended;
    } catch (err) {
      end = { code: null, signal: null, said: `the transcode could not start: ${err instanceof Error ? err.message : String(err)}` };
    }
    // Removed (cancelled) meanwhile: what its last uploads brought goes too. Or the origin is
    // closing: the record says transcoding, so a restart does it again.
    if (this.jobs.get(job.name) !== job) return this.discardAsset(job.name), this.finished(job.name);
    if (this.closed) return this.finished(job.name);
    if (end.code === 0 && (await this.host.whenEnded(job.dash, FINAL_MPD_WAIT_MS))) {
      if (this.jobs.get(job.name) !== job) return this.finished(job.name);
      job.state = 'done';
      job.percent = 100;
      job.endedAt = new Date().toISOString();
      rmSync(this.sourceFile(job.name), { force: true });
      this.save(job);
    } else if (this.jobs.get(job.name) === job) {
      const how = end.signal !== null ? `ffmpeg was killed (${end.signal})` : end.code === 0 ? 'the final MPD did not reach the origin' : `ffmpeg exited with code ${end.code}`;
      this.discardAsset(job.name);
      this.fail(job, end.said !== '' ? `${how}: ${end.said}` : how);
    }
    this.finished(job.name);
  }

  private finished(name: string): void {
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
