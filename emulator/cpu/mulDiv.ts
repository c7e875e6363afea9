/** Upper 32 bits of the unsigned 64-bit product, in 16-bit limbs so no double loses precision. */
export function mulhu(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lo = al * bl;
  const m1 = ah * bl;
  const m2 = al * bh;
  const mid = (lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
  return (ah * bh + (m1 >>> 16) + (m2 >>> 16) + (mid >>> 16)) | 0;
}

/** Signed × signed: the unsigned high word corrected for each negative operand. */
export function mulh(a: number, b: number): number {
  let h = mulhu(a, b);
  if (a < 0) h = (h - b) | 0;
  if (b < 0) h = (h - a) | 0;
  return h;
}

/** Signed rs1 × unsigned rs2. */
export function mulhsu(a: number, b: number): number {
  let h = mulhu(a, b);
  if (a < 0) h = (h - b) | 0;
  return h;
}
