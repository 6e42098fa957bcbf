// One ffmpeg run: progress from its `-progress pipe:1` lines, the last of what it said on
// stderr for a failure's reason, and a kill that does not let it write a final manifest.
import { spawn, type ChildProcess } from 'node:child_process';
import { stderrLines } from './stderr.js';

/** How an ffmpeg run ended. */
export interface TranscodeEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ffmpeg's last complaints (at most a few lines), or why it could not start. */
  said: string;
}

/** Keeps the tail of stderr: enough for a reason, bounded whatever ffmpeg prints. */
const STDERR_KEEP = 4096;

export class Transcode {
  readonly ended: Promise<TranscodeEnd>;
  private readonly child: ChildProcess;
  private stderr = '';

  /** Starts `ffmpeg args`; `progress` gets the seconds of output written so far. */
  constructor(ffmpeg: string, args: readonly string[], progress: (seconds: number) => void) {
    this.child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let line = '';
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      line += text;
      let nl: number;
      while ((nl = line.indexOf('\n')) >= 0) {
        const entry = line.slice(0, nl);
        line = line.slice(nl + 1);
        // out_time_us is microseconds despite out_time_ms's name (both carry the same value).
        if (entry.startsWith('out_time_us=')) {
          const us = Number(entry.slice('out_time_us='.length));
          if (Number.isFinite(us) && us >= 0) progress(us / 1e6);
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_KEEP);
    });
    this.ended = new Promise((resolve) => {
      this.child.once('error', (err) => resolve({ code: null, signal: null, said: `ffmpeg could not run: ${err.message}` }));
      this.child.once('close', (code, signal) => resolve({ code, signal, said: stderrLines(this.stderr).slice(-3).join('; ') }));
    });
  }

  /** Stops ffmpeg at once: SIGKILL, so it cannot finish the stream with a final (static) MPD. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
