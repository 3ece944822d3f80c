/**
 * Frames and bytes one host socket may send per second. Two counters, reset when a frame arrives
 * in a new one-second window: no timer and no allocation per frame.
 */
export class FrameRateLimiter {
  private windowStart = -Infinity;
  private frames = 0;
  private bytes = 0;
  private readonly maxFrames: number;
  private readonly maxBytes: number;

  /** 0 means no limit. */
  constructor(maxFramesPerSec: number, maxBytesPerSec: number) {
    this.maxFrames = maxFramesPerSec || Infinity;
    this.maxBytes = maxBytesPerSec || Infinity;
  }

  /**
   * Counts one frame of `bytes` received at `now` (ms). Returns 0 while the window's budget
   * holds, else how long (ms) to stop reading until the next window starts.
   */
  admit(bytes: number, now: number): number {
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.frames = 0;
      this.bytes = 0;
    }
    this.frames++;
    this.bytes += bytes;
    if (this.frames < this.maxFrames && this.bytes < this.maxBytes) return 0;
    return Math.max(1, this.windowStart + 1_000 - now);
  }
}
