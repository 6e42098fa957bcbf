// What ffprobe and ffmpeg say on stderr, made fit for a job's or an answer's reason.

/** The non-empty lines, without the `[component @ 0x...]` prefix ffmpeg puts on most of them. */
export function stderrLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]*\]\s*/, '').trim())
    .filter((l) => l !== '');
}
