/**
 * The Redis Cluster hash slot of a key or channel: CRC16 (XMODEM) of its hash tag (the text
 * between the first `{` and the next `}`, if not empty) or of the whole name, modulo 16384.
 */
export function keySlot(name: string): number {
  const bytes = Buffer.from(name);
  const open = bytes.indexOf(0x7b);
  const close = open >= 0 ? bytes.indexOf(0x7d, open + 1) : -1;
  const hashed = close > open + 1 ? bytes.subarray(open + 1, close) : bytes;
  let crc = 0;
  for (const byte of hashed) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
